/** The evaluation report: eval.json, a markdown table, and an SVG plot of Recall@20 against bytes, one line per mapping. */
import { deepRetrievalMarkdown, deepRetrievalSvgPanel, type DeepRetrievalReport } from './deep-retrieval/report-section.js'

export interface VariantResult {
  readonly name: string
  readonly kind: 'popularity' | 'full' | 'table' | 'codes' | 'two-stage'
  /** Recall@k over |test| (LightGCN), k = the report's k. */
  readonly recall: number
  readonly ndcg: number
  /** Recall@10 over min(10, |test|). */
  readonly recall10: number
  /** Users with test items that were ranked. */
  readonly users: number
  /** What produces the vectors (tables, mapping arrays; codes for Hamming), and its share of the full float32 tables. */
  readonly bytes: number
  readonly share: number
  readonly trainMs?: number
  readonly evalMs: number
  /** Table variants: how items map to rows ('none': a row per item), the nominal budget, users stored or solved, stored dtype. */
  readonly mapping?: 'none' | 'hash' | 'l2c' | 'baco'
  readonly budget?: number
  readonly userVectors?: 'stored' | 'solved'
  readonly dtype?: 'F32' | 'F16' | 'I8'
  readonly detail?: Record<string, unknown>
}

export interface Report {
  readonly dataset: Record<string, unknown>
  readonly split: string
  /** Whether the numbers describe the served model or the same configuration before its refit. */
  readonly servedModel: string
  readonly metric: string
  readonly k: number
  readonly variants: readonly VariantResult[]
  /** How the served budget was chosen ('auto': the smallest within `tolerance` of the full model's Recall@k). */
  readonly selection: { readonly mode: 'auto' | 'fixed' | 'max-bytes', readonly budget: number, readonly share: number, readonly bytes: number, readonly ofFullRecall?: number, readonly tolerance?: number }
  /** The method a request naming none is served by (serving-method.ts), and what the candidates keep of the exact ranking. */
  readonly serving?: { readonly method: 'hybrid' | 'dr' | 'mips', readonly hybridRatio: number, readonly drRatio: number | null }
  readonly timings: Record<string, number>
  readonly served: string
  /** The Deep Retrieval structure's evaluation, when the trainer built one. */
  readonly deepRetrieval?: DeepRetrievalReport
}

function fmtBytes (b: number): string {
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(2)} MiB`
  if (b >= 1 << 10) return `${(b / (1 << 10)).toFixed(1)} KiB`
  return `${Math.round(b)} B`
}

function pct (x: number): string {
  return `${(x * 100).toFixed(1)}%`
}

export function reportMarkdown (r: Report): string {
  const full = r.variants.find((v) => v.kind === 'full')
  const sel = r.selection
  const chosen = sel.mode === 'auto'
    ? `Budget chosen automatically: the smallest tried whose Recall@${r.k} is within ${pct(sel.tolerance ?? 0)} of the full model's: ${pct(sel.share)} of the full bytes (${fmtBytes(sel.bytes)})${sel.ofFullRecall === undefined ? '' : `, ${sel.ofFullRecall.toFixed(3)}x the full model's Recall@${r.k}`}.`
    : `Budget ${sel.mode === 'fixed' ? 'given' : 'capped by --max-bytes'}: ${pct(sel.share)} of the full bytes (${fmtBytes(sel.bytes)}).`
  const lines = [
    `| variant | Recall@${r.k} | NDCG@${r.k} | Recall@10 | bytes | share of full | Recall@${r.k} vs full | train ms |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...r.variants.map((v) => `| ${v.name}${v.name === r.served ? ' (served)' : ''} | ${v.recall.toFixed(4)} | ${v.ndcg.toFixed(4)} | ${v.recall10.toFixed(4)} | ${fmtBytes(v.bytes)} | ${pct(v.share)} | ${full ? `${(v.recall / full.recall).toFixed(3)}x` : ''} | ${v.trainMs === undefined ? '' : Math.round(v.trainMs)} |`),
  ]
  const method = r.serving === undefined
    ? []
    : [`Requests that name no method are served by ${r.serving.method}: the hybrid keeps ${r.serving.hybridRatio.toFixed(3)}x of the exact ranking's Recall@${r.k}${r.serving.drRatio === null ? '' : `, Deep Retrieval at its served beam ${r.serving.drRatio.toFixed(3)}x`} (98% needed).`, '']
  return [`# Evaluation (${r.split})`, '', r.servedModel, '', r.metric, '', chosen, '', ...lines, '', ...method, ...(r.deepRetrieval ? deepRetrievalMarkdown(r.deepRetrieval) : [])].join('\n')
}

const COLORS: Record<string, string> = {
  popularity: '#888888', full: '#1f77b4', none: '#17becf', hash: '#2ca02c', l2c: '#ff7f0e', baco: '#8c564b', codes: '#d62728', 'two-stage': '#9467bd',
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Recall@k against bytes, log x axis: one line per mapping through its budgets, a labelled point for every other variant. */
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
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">Recall@${r.k} against bytes</text>`,
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
  out.push(`<text x="${W / 2}" y="${H - 15}" text-anchor="middle">bytes producing the vectors (log scale)</text>`)
  out.push(`<text x="18" y="${H / 2}" text-anchor="middle" transform="rotate(-90 18 ${H / 2})">Recall@${r.k}</text>`)
  const tables = pts.filter((v) => v.kind === 'table')
  const unhashed = tables.filter((v) => v.mapping === 'none')
  let legend = 0
  for (const mapping of ['hash', 'l2c', 'baco'] as const) {
    const line = [...tables.filter((v) => v.mapping === mapping), ...unhashed].sort((a, b) => a.bytes - b.bytes)
    if (!line.some((v) => v.mapping === mapping)) continue
    out.push(`<polyline fill="none" stroke="${COLORS[mapping]}" stroke-width="2" points="${line.map((v) => `${sx(v.bytes).toFixed(1)},${sy(v.recall).toFixed(1)}`).join(' ')}"/>`)
    for (const v of line) out.push(`<circle cx="${sx(v.bytes).toFixed(1)}" cy="${sy(v.recall).toFixed(1)}" r="4" fill="${COLORS[mapping]}"><title>${esc(v.name)}</title></circle>`)
    out.push(`<text x="${W - m.r + 12}" y="${m.t + 14 * legend++}" fill="${COLORS[mapping]}">— items ${mapping}</text>`)
  }
  pts.filter((v) => v.kind !== 'table').forEach((v, n) => {
    const x = sx(v.bytes)
    const y = sy(v.recall)
    out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="5" fill="${COLORS[v.kind]}"/>`)
    out.push(`<text x="${(x + 8).toFixed(1)}" y="${(y - 6 - (n % 2) * 12).toFixed(1)}">${esc(v.name)}</text>`)
  })
  if (r.deepRetrieval) out.push(...deepRetrievalSvgPanel(r.deepRetrieval, 0, H, W, panelH))
  out.push('</svg>')
  return out.join('\n') + '\n'
}
