/**
 * The eventIds an in-process store has applied, remembered for a retention window so a retried
 * event is acknowledged without being applied twice (Redis does the same with SET NX EX).
 *
 * A Map in insertion order: ids are claimed at increasing times with one TTL, so the oldest entry
 * is always the first to expire, and forgetting expired ids is a walk from the front that stops at
 * the first live one (no periodic scan). Past `capacity` the oldest are forgotten early, which
 * bounds the heap they take whatever the event rate.
 */
export class RecentEventIds {
  private readonly expiries = new Map<string, number>()

  constructor (private readonly ttlMs: number, private readonly capacity: number) {}

  get size (): number { return this.expiries.size }

  /** True when `id` is new (now remembered until t + ttl); false when it was claimed within the window. */
  claim (id: string, t: number): boolean {
    this.expire(t)
    const until = this.expiries.get(id)
    if (until !== undefined && until > t) return false
    // A re-claimed id moves to the back, keeping the map in expiry order.
    if (until !== undefined) this.expiries.delete(id)
    this.expiries.set(id, t + this.ttlMs)
    if (this.expiries.size > this.capacity) this.expiries.delete(this.expiries.keys().next().value as string)
    return true
  }

  private expire (t: number): void {
    for (const [id, until] of this.expiries) {
      if (until > t) return
      this.expiries.delete(id)
    }
  }
}
