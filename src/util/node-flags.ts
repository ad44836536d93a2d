/**
 * Node flags the service's processes run with. A young generation of at least 16 MiB a semi-space:
 * V8 starts the semi-spaces at 1 MiB and grows them only when many objects survive, which a
 * worker serving kept answers rarely sees, so it scavenged every few MiB of request garbage. Each
 * scavenge also pays for every old-space page (a 1M-item worker holds ~200-300 MiB: 0.8-0.9 ms a
 * scavenge against 0.35-0.45 ms with a small heap, --trace-gc-nvp, one URL over and over). On the
 * 1M bench (WORKERS=2, warmed, `npm run bench:http -- --compare-dir`): GC pauses 4.76 -> 1.30 s
 * over the same rounds and 48.9 -> 44.6 µs of server CPU per response (BENCHMARKS.md). V8 takes the flag only at startup and node
 * refuses it in NODE_OPTIONS, so it goes on the command line: the cluster's workers get it here,
 * `npm start` and the Dockerfile pass it to a single process.
 */
export const YOUNG_GENERATION_FLAG = '--min-semi-space-size=16'

/** The flags a worker starts with: the primary's, plus the young generation's unless they set one. */
export function workerExecArgv (execArgv: readonly string[]): string[] {
  const sets = execArgv.some((a) => /^--(min|max)[-_]semi[-_]space[-_]size(=|$)/.test(a))
  return sets ? [...execArgv] : [...execArgv, YOUNG_GENERATION_FLAG]
}
