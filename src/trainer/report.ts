/** The evaluation report: eval.json, a markdown table, and an SVG plot of Recall@10 against model size. */
import { deepRetrievalMarkdown, deepRetrievalSvgPanel, type DeepRetrievalReport } from './deep-retrieval/report-section.js'

export interface VariantResult {
  readonly name: string
  readonly kind: 'popularity' | 'mf' | 'hashed-mf' | 'codes' | 'two-stage'
  readonly recall: number
  readonly recallFull: number
  readonly ndcg: number
  /** Users with test items that were ranked. */
  readonly users: number
  /** Stored numbers (floats for embeddings, counts for popularity; bits / 32 for codes). */
  readonly params: number
  readonly bytes: number
  readonly trainMs?: number
  readonly evalMs: number
  readonly detail?: Record<string, unknown>
}

export interface Report {
  readonly dataset: Record<string, unknown>
  readonly split: string
  readonly metric: string
  readonly k: number
  readonly variants: readonly VariantResult[]
  readonly targets: readonly { readonly name: string, readonly value: number, readonly target: number, readonly met: boolean }[]
  readonly timings: Record<string, number>
  readonly served: string
  /** The Deep Retrieval structure's evaluation, when the trainer built one. */
  readonly deepRetrieval?: DeepRetrievalReport
}

function fmtBytes (b: number): string {
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(2)} MiB`
  if (b >= 1 << 10) return `${(b / (1 << 10)).toFixed(1)} KiB`
  return `${b} B`
}

export function reportMarkdown (r: Report): string {
  const lines = [
    `| variant | Recall@${r.k} | NDCG@${r.k} | Recall@${r.k} (/|test|) | parameters | size | train ms |`,
    '|---|---:|---:|---:|---:|---:|---:|',
    ...r.variants.map((v) => `| ${v.name}${v.name === r.served ? ' (served)' : ''} | ${v.recall.toFixed(4)} | ${v.ndcg.toFixed(4)} | ${v.recallFull.toFixed(4)} | ${v.params.toLocaleString('en-US')} | ${fmtBytes(v.bytes)} | ${v.trainMs === undefined ? '' : Math.round(v.trainMs)} |`),
  ]
  const targets = r.targets.map((t) => `- ${t.met ? 'met' : 'MISSED'}: ${t.name} = ${t.value.toFixed(4)} (target ${t.target})`)
  return [`# Evaluation (${r.split})`, '', r.metric, '', ...lines, '', ...targets, '', ...(r.deepRetrieval ? deepRetrievalMarkdown(r.deepRetrieval) : [])].join('\n')
}

const COLORS: Record<VariantResult['kind'], string> = {
  popularity: '#888888', mf: '#1f77b4', 'hashed-mf': '#2ca02c', codes: '#d62728', 'two-stage': '#9467bd',
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Recall@K against model bytes, log x axis, one labelled point per variant. */
export function reportSvg (r: Report): string {
  const W = 860
  const H = 420
  // The Deep Retrieval panel goes below the size plot.
  const panelH = r.deepRetrieval ? 380 : 0
  const m = { l: 70, r: 200, t: 40, b: 60 }
  const pts = r.variants.filter((v) => v.bytes > 0)
  const lx = pts.map((v) => Math.log10(v.bytes))
  const x0 = Math.floor(Math.min(...lx))
  const x1 = Math.ceil(Math.max(...lx)) + (Math.ceil(Math.max(...lx)) === Math.floor(Math.min(...lx)) ? 1 : 0)
  const yMax = Math.max(0.01, ...pts.map((v) => v.recall)) * 1.15
  const sx = (b: number): number => m.l + ((Math.log10(b) - x0) / (x1 - x0)) * (W - m.l - m.r)
  const sy = (y: number): number => H - m.b - (y / yMax) * (H - m.t - m.b)
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + panelH}" viewBox="0 0 ${W} ${H + panelH}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H + panelH}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">Recall@${r.k} against model size</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
  ]
  for (let e = x0; e <= x1; e++) {
    const x = sx(10 ** e)
    out.push(`<line x1="${x}" y1="${H - m.b}" x2="${x}" y2="${H - m.b + 5}" stroke="black"/><text x="${x}" y="${H - m.b + 20}" text-anchor="middle">${esc(fmtBytes(10 ** e))}</text>`)
  }
  for (let t = 0; t <= 5; t++) {
    const y = (yMax * t) / 5
    out.push(`<line x1="${m.l - 5}" y1="${sy(y)}" x2="${m.l}" y2="${sy(y)}" stroke="black"/><text x="${m.l - 8}" y="${sy(y) + 4}" text-anchor="end">${y.toFixed(3)}</text>`)
  }
  out.push(`<text x="${W / 2}" y="${H - 15}" text-anchor="middle">model size (bytes, log scale)</text>`)
  out.push(`<text x="18" y="${H / 2}" text-anchor="middle" transform="rotate(-90 18 ${H / 2})">Recall@${r.k}</text>`)
  pts.forEach((v, n) => {
    const x = sx(v.bytes)
    const y = sy(v.recall)
    out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="5" fill="${COLORS[v.kind]}"/>`)
    out.push(`<text x="${(x + 8).toFixed(1)}" y="${(y - 6 - (n % 2) * 12).toFixed(1)}">${esc(v.name)}</text>`)
  })
  if (r.deepRetrieval) out.push(...deepRetrievalSvgPanel(r.deepRetrieval, 0, H, W, panelH))
  out.push('</svg>')
  return out.join('\n') + '\n'
}
