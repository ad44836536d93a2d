/**
 * Long builds written as generators that `yield` between slices of work (tables, the int8 copy,
 * id lists): run in one piece where nothing else waits (tests, small catalogs), or in slices with
 * a turn of the event loop between them where a serving process must keep answering (reloads).
 */

/** A turn of the event loop: pending I/O and timers run before the promise resolves. */
export function nextTurn (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Runs every step at once; returns the generator's result. */
export function runAll<T> (steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next()
    if (step.done === true) return step.value
  }
}

/**
 * Runs the steps, calling `pause` whenever `sliceMs` have passed since the last pause (0: after
 * every step). A step that throws rejects the promise.
 */
export async function runInSlices<T> (steps: Generator<void, T>, pause: () => Promise<void> = nextTurn, sliceMs = 0): Promise<T> {
  let since = performance.now()
  for (;;) {
    const step = steps.next()
    if (step.done === true) return step.value
    if (performance.now() - since >= sliceMs) {
      await pause()
      since = performance.now()
    }
  }
}
