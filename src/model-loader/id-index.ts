/**
 * Dense internal rows for external string ids: a Map from id to row and the array back
 * (the layout orama's internal id store uses). Immutable once built.
 */
export class IdIndex {
  readonly ids: readonly string[]
  private readonly rows: Map<string, number>

  private constructor (ids: readonly string[], rows: Map<string, number>) {
    this.ids = ids
    this.rows = rows
  }

  /** Returns the index, or the first duplicated id (callers turn that into their own error). */
  static build (ids: readonly string[]): IdIndex | { duplicate: string, rows: [number, number] } {
    const rows = new Map<string, number>()
    for (let i = 0; i < ids.length; i++) {
      const prev = rows.get(ids[i])
      if (prev !== undefined) return { duplicate: ids[i], rows: [prev, i] }
      rows.set(ids[i], i)
    }
    return new IdIndex(ids, rows)
  }

  get size (): number { return this.ids.length }

  rowOf (id: string): number | undefined { return this.rows.get(id) }

  idAt (row: number): string { return this.ids[row] }
}
