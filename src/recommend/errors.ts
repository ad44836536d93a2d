/**
 * Errors of the recommendation domain. The HTTP layer maps them to problems; nothing here knows
 * about HTTP beyond the status named in each doc comment.
 */

/** An item id that is not in the active model's catalog. HTTP 404 (`unknown-item`). */
export class UnknownItemError extends Error {
  override name = 'UnknownItemError'
  readonly itemId: string
  constructor (itemId: string) {
    super(`item ${JSON.stringify(itemId)} is not in the catalog of the active model`)
    this.itemId = itemId
  }
}

/**
 * A well-formed query that does not fit the active model: a raw vector of the wrong dimension, a
 * hex code of the wrong width. HTTP 422 (`incompatible-query`): the same body may be valid
 * against another model version.
 */
export class IncompatibleQueryError extends Error {
  override name = 'IncompatibleQueryError'
  readonly field: string
  constructor (field: string, message: string) {
    super(message)
    this.field = field
  }
}
