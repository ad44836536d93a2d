/**
 * The CPUs this process may use: the machine's, capped by a cgroup CPU quota. Node 20's
 * os.availableParallelism() counts the host's cores, so a container limited to 2 CPUs on a 64-core
 * host would start 64 workers, each with its own copy of the model. The quota files are input
 * from outside: anything that does not parse as a quota is read as "no quota".
 */
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

type ReadText = (path: string) => string | null

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

const INTEGER = /^\s*(-?\d{1,18})\s*$/

/** CPUs granted by a quota over a period (rounded up: 1.5 CPUs of time keep two workers busy). */
function fromQuota (quota: number, period: number): number | null {
  if (!(quota > 0) || !(period > 0)) return null
  return Math.max(1, Math.ceil(quota / period))
}

/** The cgroup CPU quota in CPUs, or null when there is none (or none that parses). */
export function cgroupCpuQuota (read: ReadText = readText): number | null {
  // cgroup v2: "max 100000" (no quota) or "200000 100000".
  const v2 = read('/sys/fs/cgroup/cpu.max')
  if (v2 !== null) {
    const m = /^\s*(max|\d{1,18})\s+(\d{1,18})\s*$/.exec(v2)
    return m === null || m[1] === 'max' ? null : fromQuota(Number(m[1]), Number(m[2]))
  }
  // cgroup v1: a quota of -1 is none.
  for (const dir of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
    const quota = read(`${dir}/cpu.cfs_quota_us`)
    const period = read(`${dir}/cpu.cfs_period_us`)
    if (quota === null || period === null) continue
    const q = INTEGER.exec(quota)
    const p = INTEGER.exec(period)
    return q === null || p === null ? null : fromQuota(Number(q[1]), Number(p[1]))
  }
  return null
}

export function usableCpus (read: ReadText = readText, cores = availableParallelism()): number {
  const quota = cgroupCpuQuota(read)
  return Math.max(1, quota === null ? cores : Math.min(cores, quota))
}
