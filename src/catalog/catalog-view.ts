/**
 * The catalog rules (src/state/item-rules.ts) applied to one model: which rows are available,
 * each row's effective tags (a rule's, else the model's own) and boost, and the eligible rows of
 * a request's filters (tags, excludeTags, an allow list) as a RowFilter the engines search within.
 *
 * One view per recommender (so per model): `sync` catches up with the process's rule book at the
 * start of a request, a comparison of two numbers when nothing changed, and applies new changes
 * row by row. Any change that touches this catalog bumps `epoch`: answers kept before it are
 * stale (the result cache checks it), and the filters built before it are dropped.
 */
import type { Model } from '../model-loader/model.js'
import { RowFilter } from '../search/row-filter.js'
import { RuleBook, type ItemRule, type RuleChange } from '../state/item-rules.js'
import { buildTagIndex, type TagIndex } from './tag-index.js'

/** A request's filters; every field optional, all must hold. */
export interface FilterSpec {
  /** Items carrying any of these tags. */
  readonly tags?: readonly string[]
  /** Items carrying none of these tags. */
  readonly excludeTags?: readonly string[]
  /** Only these items (ids outside the catalog are ignored). */
  readonly allowedItemIds?: readonly string[]
}

/** What GET /v1/items/{id} shows of an item. */
export interface ItemState {
  readonly available: boolean
  /** Effective tags: the rule's when it sets them, else the model's. */
  readonly tags: readonly string[]
  readonly modelTags: readonly string[]
  readonly boost: number
  readonly rule: ItemRule | null
}

const NO_RULES = new RuleBook()

/** Bytes of tag filters kept per view (a filter is one bit per item: ~125 KB at 1M items). */
export const FILTER_CACHE_BYTES = 16 * 1024 * 1024

export class CatalogView {
  private readonly model: Pick<Model, 'items' | 'itemMeta'>
  private readonly source: () => RuleBook | undefined
  private book: RuleBook
  private readonly tags: TagIndex
  private readonly itemCount: number
  /** One bit per row, set when a rule makes it unavailable. */
  private readonly unavailable: Uint8Array
  private unavailableCount = 0
  private readonly tagOverrides = new Map<number, readonly string[]>()
  private readonly boosts = new Map<number, number>()
  private readonly ruled = new Set<number>()
  private seenVersion = -1
  private currentEpoch = 0
  private availableFilter: RowFilter | undefined | null = null
  private readonly filters = new Map<string, RowFilter | undefined>()
  private readonly maxFilters: number

  /**
   * `rules` is the process's rule book, or a function that gives it once it exists (the state store
   * opens after the first model is activated); none yet means no rules.
   */
  constructor (model: Pick<Model, 'items' | 'itemMeta'>, rules: RuleBook | (() => RuleBook | undefined)) {
    this.model = model
    this.source = typeof rules === 'function' ? rules : () => rules
    this.book = this.source() ?? NO_RULES
    this.itemCount = model.items.size
    this.tags = buildTagIndex(model)
    this.unavailable = new Uint8Array(RowFilter.bitmapBytes(this.itemCount))
    this.maxFilters = Math.max(8, Math.floor(FILTER_CACHE_BYTES / Math.max(1, this.unavailable.length)))
    this.sync()
  }

  /** Bumped by every rule change that touches this catalog. */
  get epoch (): number { return this.currentEpoch }
  /** Rows with a boost: none means the ranking needs no re-sort. */
  get boostedCount (): number { return this.boosts.size }
  /** The model's tags and their item counts, most items first. */
  get tagCounts (): ReadonlyArray<readonly [string, number]> { return this.tags.counts }

  /** Catches up with the rule book. */
  sync (): void {
    const book = this.source() ?? NO_RULES
    const version = book.version
    if (book === this.book && version === this.seenVersion) return
    const changes = this.seenVersion < 0 || book !== this.book ? null : book.changesSince(this.seenVersion)
    this.book = book
    this.seenVersion = version
    let touched = false
    if (changes === null) {
      touched = this.rebuild()
    } else {
      for (const change of changes) touched = this.applyChange(change) || touched
    }
    if (touched) {
      this.currentEpoch++
      this.availableFilter = null
      this.filters.clear()
    }
  }

  /** Effective tags of one row: its rule's, else the model's. */
  tagsOf (row: number): readonly string[] {
    return this.tagOverrides.get(row) ?? this.tags.tagsOf(row)
  }

  /** Items of this catalog with a rule. */
  get ruleCount (): number { return this.ruled.size }

  boostOf (row: number): number {
    return this.boosts.get(row) ?? 0
  }

  isAvailable (row: number): boolean {
    return ((this.unavailable[row >> 3] >> (row & 7)) & 1) === 0
  }

  item (row: number): ItemState {
    const rule = this.book.get(this.model.items.idAt(row)) ?? null
    const modelTags = this.tags.tagsOf(row)
    return { available: this.isAvailable(row), tags: this.tagsOf(row), modelTags, boost: this.boostOf(row), rule }
  }

  /**
   * The rows a request may be answered with: available, passing its tag filters and its allow
   * list; undefined when that is every row. Tag filters are kept per distinct filter until the
   * next rule change; an allow list is small and made per request.
   */
  eligible (spec?: FilterSpec): RowFilter | undefined {
    let filter = this.tagFilter(spec?.tags, spec?.excludeTags)
    if (spec?.allowedItemIds !== undefined) {
      const rows: number[] = []
      for (const id of spec.allowedItemIds) {
        const row = this.model.items.rowOf(id)
        if (row !== undefined) rows.push(row)
      }
      const allowed = RowFilter.fromRows(rows, this.itemCount)
      filter = filter === undefined ? allowed : allowed.and(filter)
    }
    return filter
  }

  private tagFilter (tags: readonly string[] | undefined, excludeTags: readonly string[] | undefined): RowFilter | undefined {
    const include = tags === undefined || tags.length === 0 ? null : [...new Set(tags)].sort()
    const exclude = excludeTags === undefined || excludeTags.length === 0 ? null : [...new Set(excludeTags)].sort()
    if (include === null && exclude === null) return this.available()
    const key = JSON.stringify([include, exclude])
    if (this.filters.has(key)) return this.filters.get(key)
    const filter = this.buildTagFilter(include, exclude)
    if (this.filters.size >= this.maxFilters) this.filters.clear()
    this.filters.set(key, filter)
    return filter
  }

  private buildTagFilter (include: string[] | null, exclude: string[] | null): RowFilter {
    const bits = new Uint8Array(RowFilter.bitmapBytes(this.itemCount))
    const set = (row: number): void => { bits[row >> 3] |= 1 << (row & 7) }
    const unset = (row: number): void => { bits[row >> 3] &= ~(1 << (row & 7)) }
    // Rows whose rule sets tags answer by those; the model's postings skip them.
    if (include === null) {
      bits.fill(0xff)
    } else {
      for (const tag of include) for (const row of this.tags.rows(tag)) if (!this.tagOverrides.has(row)) set(row)
      for (const [row, own] of this.tagOverrides) if (own.some((t) => include.includes(t))) set(row)
    }
    if (exclude !== null) {
      for (const tag of exclude) for (const row of this.tags.rows(tag)) if (!this.tagOverrides.has(row)) unset(row)
      for (const [row, own] of this.tagOverrides) if (own.some((t) => exclude.includes(t))) unset(row)
    }
    if (this.unavailableCount > 0) for (let i = 0; i < bits.length; i++) bits[i] &= ~this.unavailable[i]
    return RowFilter.fromBits(bits, this.itemCount)
  }

  /** The available rows, or undefined when every row is. */
  private available (): RowFilter | undefined {
    if (this.availableFilter === null) {
      if (this.unavailableCount === 0) {
        this.availableFilter = undefined
      } else {
        const bits = new Uint8Array(this.unavailable.length)
        for (let i = 0; i < bits.length; i++) bits[i] = ~this.unavailable[i]
        this.availableFilter = RowFilter.fromBits(bits, this.itemCount)
      }
    }
    return this.availableFilter
  }

  /** Applies one change; true when it touched this catalog. */
  private applyChange (change: RuleChange): boolean {
    const row = this.model.items.rowOf(change.itemId)
    if (row === undefined) return false
    this.setRow(row, change.rule)
    return true
  }

  private setRow (row: number, rule: ItemRule | null): void {
    const bit = 1 << (row & 7)
    const was = (this.unavailable[row >> 3] & bit) !== 0
    const off = rule?.available === false
    if (off && !was) { this.unavailable[row >> 3] |= bit; this.unavailableCount++ }
    if (!off && was) { this.unavailable[row >> 3] &= ~bit; this.unavailableCount-- }
    if (rule?.tags !== undefined) this.tagOverrides.set(row, rule.tags)
    else this.tagOverrides.delete(row)
    if (rule?.boost !== undefined) this.boosts.set(row, rule.boost)
    else this.boosts.delete(row)
    if (rule === null) this.ruled.delete(row)
    else this.ruled.add(row)
  }

  /** Every rule again (a new view, or a rule book that moved on further than its log); true when any row changed. */
  private rebuild (): boolean {
    const had = this.unavailableCount + this.tagOverrides.size + this.boosts.size
    this.unavailable.fill(0)
    this.unavailableCount = 0
    this.tagOverrides.clear()
    this.boosts.clear()
    this.ruled.clear()
    for (const [itemId, rule] of this.book.entries()) this.applyChange({ itemId, rule })
    return had + this.unavailableCount + this.tagOverrides.size + this.boosts.size > 0
  }
}
