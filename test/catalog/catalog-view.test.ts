import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { CatalogView } from '../../src/catalog/catalog-view.js'
import { mergeRule, RULE_LOG_LENGTH, RuleBook, type ItemRule } from '../../src/state/item-rules.js'

const TAGS = ['a', 'b', 'c', 'd']

/** A catalog of `n` items `i0..`, item r tagged with the tags whose bit is set in `masks[r]`. */
function catalog (n: number, masks: number[]): { items: { size: number, rowOf: (id: string) => number | undefined, idAt: (row: number) => string }, itemMeta: { title: () => undefined, tags: (row: number) => string[] | undefined } } {
  return {
    items: { size: n, rowOf: (id) => { const r = Number(id.slice(1)); return id.startsWith('i') && Number.isInteger(r) && r >= 0 && r < n ? r : undefined }, idAt: (row) => `i${row}` },
    itemMeta: { title: () => undefined, tags: (row) => { const t = TAGS.filter((_, j) => ((masks[row] ?? 0) >> j) & 1); return t.length === 0 ? undefined : t } },
  }
}

const ruleArb = fc.record({
  item: fc.integer({ min: 0, max: 45 }), // some beyond the catalog: ignored
  available: fc.option(fc.boolean(), { nil: undefined }),
  tags: fc.option(fc.option(fc.subarray(TAGS), { nil: null }), { nil: undefined }),
  boost: fc.option(fc.option(fc.integer({ min: -3, max: 3 }), { nil: null }), { nil: undefined }),
})

test('eligible rows are the available ones passing the tag filters by effective tags (a rule\'s, else the model\'s) and the allow list; unknown tags match nothing', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 40 }), fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 40 }), fc.array(ruleArb, { maxLength: 30 }),
    fc.option(fc.subarray([...TAGS, 'zz']), { nil: undefined }), fc.option(fc.subarray([...TAGS, 'zz']), { nil: undefined }), fc.option(fc.array(fc.integer({ min: 0, max: 45 }), { maxLength: 8 }), { nil: undefined }),
    (n, masks, patches, tags, excludeTags, allowed) => {
      const book = new RuleBook()
      const view = new CatalogView(catalog(n, masks), book)
      // Half the rules before the view syncs, half after: both the catch-up and the first read.
      const rules = new Map<string, ItemRule>()
      patches.forEach((p, i) => {
        const id = `i${p.item}`
        const patch = { ...(p.available === undefined ? {} : { available: p.available }), ...(p.tags === undefined ? {} : { tags: p.tags }), ...(p.boost === undefined ? {} : { boost: p.boost }) }
        if (Object.keys(patch).length === 0) return
        const rule = mergeRule(rules.get(id), patch, 't')
        if (rule === null) rules.delete(id); else rules.set(id, rule)
        book.apply({ itemId: id, rule })
        if (i === Math.floor(patches.length / 2)) view.sync()
      })
      view.sync()
      const spec = { tags, excludeTags, allowedItemIds: allowed?.map((r) => `i${r}`) }
      const filter = view.eligible(spec)
      const want: number[] = []
      for (let row = 0; row < n; row++) {
        const rule = rules.get(`i${row}`)
        if (rule?.available === false) continue
        const own = rule?.tags ?? TAGS.filter((_, j) => ((masks[row] ?? 0) >> j) & 1)
        if (tags !== undefined && tags.length > 0 && !own.some((t) => tags.includes(t))) continue
        if (excludeTags !== undefined && own.some((t) => excludeTags.includes(t))) continue
        if (allowed !== undefined && !allowed.includes(row)) continue
        want.push(row)
        assert.equal(view.boostOf(row), rule?.boost ?? 0)
      }
      const got = filter === undefined ? [...Array(n).keys()] : [...filter.rows]
      assert.deepEqual(got, want)
    }), { numRuns: 400, seed: 7 })
})

test('the epoch moves only when a change touches the catalog; a view far behind the rule log rebuilds from every rule', () => {
  const book = new RuleBook()
  const view = new CatalogView(catalog(10, [1, 2, 3]), book)
  const e0 = view.epoch
  assert.equal(view.eligible(), undefined, 'every row eligible: no filter at all')
  book.apply({ itemId: 'elsewhere', rule: { available: false, updatedAt: 't' } })
  view.sync()
  assert.equal(view.epoch, e0, 'an item of another model')
  book.apply({ itemId: 'i3', rule: { available: false, updatedAt: 't' } })
  view.sync()
  assert.equal(view.epoch, e0 + 1)
  assert.deepEqual([...view.eligible()!.rows], [0, 1, 2, 4, 5, 6, 7, 8, 9])
  assert.equal(view.item(3).available, false)
  // More changes than the log keeps: the view reads every rule again.
  for (let i = 0; i < RULE_LOG_LENGTH + 10; i++) book.apply({ itemId: `i${i % 10}`, rule: i % 10 === 5 ? { boost: 2, updatedAt: 't' } : null })
  assert.equal(book.changesSince(0), null)
  view.sync()
  assert.equal(view.eligible(), undefined)
  assert.equal(view.boostOf(5), 2)
  assert.equal(view.boostedCount, 1)
})

test('item() shows the effective state: the rule\'s tags over the model\'s, which stay visible', () => {
  const book = new RuleBook()
  const view = new CatalogView(catalog(4, [3, 0, 1, 0]), book)
  assert.deepEqual(view.item(0), { available: true, tags: ['a', 'b'], modelTags: ['a', 'b'], boost: 0, rule: null })
  const rule = { available: false as const, tags: ['x'], boost: 1.5, updatedAt: 't' }
  book.apply({ itemId: 'i0', rule })
  view.sync()
  assert.deepEqual(view.item(0), { available: false, tags: ['x'], modelTags: ['a', 'b'], boost: 1.5, rule })
  assert.deepEqual(view.tagCounts, [['a', 2], ['b', 1]])
})
