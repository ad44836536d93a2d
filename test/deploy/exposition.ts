/**
 * The Prometheus text exposition format, read back: which metric families a /metrics page declares
 * and which label names each family's samples carry.
 */
export interface Family {
  readonly type: string
  readonly sampleNames: Set<string>
  readonly labels: Set<string>
  samples: number
}

const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
}

export function parseExposition (text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type) {
      const names = new Set([type[1], ...(SUFFIXES[type[2]] ?? []).map((s) => type[1] + s)])
      families.set(type[1], { type: type[2], sampleNames: names, labels: new Set(), samples: 0 })
      continue
    }
    if (line === '' || line.startsWith('#')) continue
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+/.exec(line)
    if (!sample) throw new Error(`not an exposition line: ${line}`)
    const family = [...families.values()].find((f) => f.sampleNames.has(sample[1]))
    if (!family) throw new Error(`a sample without a # TYPE line: ${line}`)
    family.samples++
    for (const [, label] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) family.labels.add(label)
  }
  return families
}

/** The family a sample name belongs to (a histogram's _bucket, _sum and _count included). */
export function familyOf (families: Map<string, Family>, sampleName: string): Family | undefined {
  return [...families.values()].find((f) => f.sampleNames.has(sampleName))
}
