/**
 * Catalog rules: what a product team says about an item beyond the model (PATCH /v1/items/{id}):
 * whether it may be shown at all, the tags it is filtered by (the model's own tags until a rule
 * sets them), and a boost added to its score when it is ranked. Rules are keyed by item id, not
 * by a model's row, so they outlive model reloads; they live in the state store and every replica
 * keeps them in process (`RuleBook`), because every recommendation reads them.
 *
 * A patch follows JSON merge patch (RFC 7396): a field given replaces the rule's, `null` returns it
 * to the default (available, the model's tags, no boost). A rule left with nothing but defaults is
 * removed. Every store merges in one place (the in-process store, the cluster primary, or a
 * compare-and-set script in Redis), so concurrent patches of one item never lose a field.
 */
import { z } from 'zod'
import { MAX_ID_BYTES } from '../bundle-format/manifest.js'
import { printableText } from '../util/text-schema.js'

/** The model bundle's own limits on an item's tags (load-bundle.ts), so a rule can hold any tag list a model can. */
export const MAX_RULE_TAGS = 100
export const MAX_TAG_BYTES = 256
/** A boost is added to the item's score (see openapi.yaml); the scores of every method stay well within it. */
export const MAX_BOOST = 1000

export const TagSchema = printableText(MAX_TAG_BYTES)

const Boost = z.number().finite().min(-MAX_BOOST).max(MAX_BOOST)

/** A stored rule: only the fields that differ from the defaults. */
export const ItemRuleSchema = z.object({
  available: z.literal(false).optional(),
  tags: z.array(TagSchema).max(MAX_RULE_TAGS).optional(),
  boost: Boost.optional(),
  /** When the rule last changed (ISO 8601, the clock of the store that merged it). */
  updatedAt: z.string().min(1).max(64),
}).strict()
export type ItemRule = z.infer<typeof ItemRuleSchema>

/** A change to one item's rule. */
export const ItemRulePatchSchema = z.object({
  available: z.boolean().optional(),
  tags: z.array(TagSchema).max(MAX_RULE_TAGS).nullable().optional(),
  boost: Boost.nullable().optional(),
}).strict().refine((p) => p.available !== undefined || p.tags !== undefined || p.boost !== undefined, { message: 'give at least one of available, tags, boost' })
export type ItemRulePatch = z.infer<typeof ItemRulePatchSchema>

/** An item's rule after a change: the whole rule, or null once it holds only defaults. */
export interface RuleChange {
  readonly itemId: string
  readonly rule: ItemRule | null
}

export const RuleChangeSchema = z.object({
  itemId: z.string().min(1).max(MAX_ID_BYTES),
  rule: ItemRuleSchema.nullable(),
}).strict()

/** `current` with `patch` applied at time `at`; null when nothing but defaults is left. */
export function mergeRule (current: ItemRule | undefined, patch: ItemRulePatch, at: string): ItemRule | null {
  const available = patch.available === undefined ? current?.available : patch.available ? undefined : false
  const tags = patch.tags === undefined ? current?.tags : patch.tags === null ? undefined : [...new Set(patch.tags)]
  const boost = patch.boost === undefined ? current?.boost : patch.boost === null || patch.boost === 0 ? undefined : patch.boost
  if (available === undefined && tags === undefined && boost === undefined) return null
  // Fields in the schema's order, so a rule reads the same whether merged here or parsed from a store.
  const rule: { available?: false, tags?: string[], boost?: number, updatedAt?: string } = {}
  if (available !== undefined) rule.available = available
  if (tags !== undefined) rule.tags = tags
  if (boost !== undefined) rule.boost = boost
  rule.updatedAt = at
  return rule as ItemRule
}

/** Changes a rule book keeps for readers catching up; one further behind reads every rule again. */
export const RULE_LOG_LENGTH = 4096

/**
 * The rules as this process holds them, at `version` (the number of changes applied since the
 * store began, equal on every replica that applied the same changes). Readers on the request path
 * (a recommender's catalog view) remember the version they saw and catch up from `changesSince`.
 */
export class RuleBook {
  private readonly rules = new Map<string, ItemRule>()
  private readonly log: RuleChange[] = []
  private logStart = 0
  private current = 0

  get version (): number { return this.current }
  get size (): number { return this.rules.size }

  get (itemId: string): ItemRule | undefined {
    return this.rules.get(itemId)
  }

  entries (): IterableIterator<[string, ItemRule]> {
    return this.rules.entries()
  }

  /** Applies one change as the next version. */
  apply (change: RuleChange): void {
    if (change.rule === null) this.rules.delete(change.itemId)
    else this.rules.set(change.itemId, change.rule)
    this.log.push(change)
    if (this.log.length > RULE_LOG_LENGTH) {
      const drop = this.log.length - RULE_LOG_LENGTH
      this.log.splice(0, drop)
      this.logStart += drop
    }
    this.current++
  }

  /** Merges `patch` into the item's rule at time `at` (ISO 8601) as the next version; returns the change. */
  patch (itemId: string, patch: ItemRulePatch, at: string): RuleChange {
    const change = { itemId, rule: mergeRule(this.rules.get(itemId), patch, at) }
    this.apply(change)
    return change
  }

  /** Replaces every rule, at `version` (a snapshot from the store); readers start over. */
  reset (rules: Iterable<readonly [string, ItemRule]>, version: number): void {
    this.rules.clear()
    for (const [id, rule] of rules) this.rules.set(id, rule)
    this.log.length = 0
    this.logStart = version
    this.current = version
  }

  /** The changes after `version`, oldest first; null when they are no longer all kept (read `entries` again). */
  changesSince (version: number): readonly RuleChange[] | null {
    if (version === this.current) return []
    if (version < this.logStart || version > this.current) return null
    return this.log.slice(version - this.logStart)
  }
}
