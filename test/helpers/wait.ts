/**
 * Waiting on a condition in tests: polled until it holds. The guard is not a measurement: it is
 * far above any expected wait (a loaded 2-core machine included) and only turns a condition that
 * never comes into a failure instead of a test process that never ends (node:test's own timeout
 * cancels the test but not a loop still running in it).
 */
export const WAIT_GUARD_MS = 90_000

export async function waitUntil (check: () => boolean | Promise<boolean>, what: string, pollMs = 20): Promise<void> {
  const guard = Date.now() + WAIT_GUARD_MS
  while (!(await check())) {
    if (Date.now() > guard) throw new Error(`gave up waiting for ${what} after ${WAIT_GUARD_MS} ms`)
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
}
