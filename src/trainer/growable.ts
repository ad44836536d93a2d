/**
 * Append-only typed arrays that double their capacity, so a 25M-row log is held in a handful of
 * flat buffers instead of 25M row objects. One class per element type on purpose: a generic base
 * shared by the three made push() polymorphic and measured 5-40% slower on 10M pushes each.
 */
export class GrowableInt32 {
  private data: Int32Array
  length = 0
  constructor (capacity = 1024) { this.data = new Int32Array(Math.max(1, capacity)) }
  push (v: number): void {
    if (this.length === this.data.length) this.grow()
    this.data[this.length++] = v
  }

  private grow (): void {
    const next = new Int32Array(this.data.length * 2)
    next.set(this.data)
    this.data = next
  }

  /** A trimmed copy. */
  toArray (): Int32Array { return this.data.slice(0, this.length) }
}

export class GrowableFloat64 {
  private data: Float64Array
  length = 0
  constructor (capacity = 1024) { this.data = new Float64Array(Math.max(1, capacity)) }
  push (v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.length++] = v
  }

  toArray (): Float64Array { return this.data.slice(0, this.length) }
}

export class GrowableFloat32 {
  private data: Float32Array
  length = 0
  constructor (capacity = 1024) { this.data = new Float32Array(Math.max(1, capacity)) }
  push (v: number): void {
    if (this.length === this.data.length) {
      const next = new Float32Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.length++] = v
  }

  toArray (): Float32Array { return this.data.slice(0, this.length) }
}

/** Interns string ids into dense ints in first-seen order. */
export class IdInterner {
  readonly ids: string[] = []
  private readonly rows = new Map<string, number>()
  intern (id: string): number {
    let row = this.rows.get(id)
    if (row === undefined) {
      row = this.ids.length
      this.rows.set(id, row)
      this.ids.push(id)
    }
    return row
  }

  get (id: string): number | undefined { return this.rows.get(id) }
  get size (): number { return this.ids.length }
}
