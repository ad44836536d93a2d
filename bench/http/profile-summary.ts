/**
 * The self time of a V8 CPU profile (`node --cpu-prof`) by function: what `bench:http --profile`
 * prints for each hashrec server, so "where a request's time goes" comes from a command anyone can
 * run. Idle and the program's own bookkeeping are reported apart from the functions.
 */
import { readFileSync } from 'node:fs'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number } }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

export interface SelfTime { name: string, ms: number, share: number }

/** Functions by self time, largest first; `share` is of the busy (non-idle) time. */
export function selfTimes (file: string): { busyMs: number, idleMs: number, top: SelfTime[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byNode = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) byNode.set(profile.samples[i], (byNode.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0))
  const byName = new Map<string, number>()
  let idle = 0
  let total = 0
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0
    total += us
    const { functionName, url, lineNumber } = node.callFrame
    if (functionName === '(idle)') { idle += us; continue }
    const where = url === '' ? '' : ` ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`
    const name = `${functionName === '' ? '(anonymous)' : functionName}${where}`
    byName.set(name, (byName.get(name) ?? 0) + us)
  }
  const busy = total - idle
  const top = [...byName].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: us / 1000, share: busy > 0 ? us / busy : 0 }))
  return { busyMs: busy / 1000, idleMs: idle / 1000, top }
}
