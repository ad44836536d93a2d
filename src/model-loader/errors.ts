/**
 * A bundle that cannot be served. Maps to HTTP 422 on the reload route (the request was well
 * formed; the bundle it names is not). `file` and `field` say where the problem is.
 */
export class BundleError extends Error {
  override name = 'BundleError'
  readonly file: string
  readonly field: string | undefined

  constructor (file: string, message: string, field?: string) {
    super(`${file}${field ? ` (${field})` : ''}: ${message}`)
    this.file = file
    this.field = field
  }
}
