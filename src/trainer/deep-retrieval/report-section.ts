/** Deep Retrieval's part of the trainer's report: a markdown section and a recall-vs-candidates panel for eval.svg. */
import type { DeepRetrievalEvaluation } from './evaluate.js'

/** What eval.json records about the structure. */
export interface DeepRetrievalReport extends DeepRetrievalEvaluation {
  readonly shape: { readonly depth: number, readonly width: number, readonly pathsPerItem: number, readonly embeddingDimension: number, readonly hidden: number }
  readonly servedBeam: number
  readonly trainMs: number
  readonly evalMs: number
  /** Bytes of the dr_* tensors, and their share of the bundle's tensors file. */
  readonly tensorBytes: number
}

export function deepRetrievalMarkdown (r: DeepRetrievalReport): string[] {
  const { k } = r
  const s = r.shape
  return [
    `## Deep Retrieval (K=${s.width}, D=${s.depth}, J=${s.pathsPerItem}, ${s.hidden > 0 ? `MLP ${s.hidden} hidden` : 'linear'} layers, e=${s.embeddingDimension})`,
    '',
    `Against exhaustive inner product over the same served vectors, ${r.users} test users: exhaustive Recall@${k} ${r.exhaustive.recall.toFixed(4)}, NDCG@${k} ${r.exhaustive.ndcg.toFixed(4)}. Served beam: ${r.servedBeam}. Trained in ${(r.trainMs / 1000).toFixed(1)} s; tensors ${r.tensorBytes.toLocaleString('en-US')} bytes.`,
    '',
    `| beam | Recall@${k} | x exhaustive | NDCG@${k} | x exhaustive | items scored per query | share of catalog | fallbacks |`,
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.beams.map((b) => `| ${b.beam}${b.beam === r.servedBeam ? ' (served)' : ''} | ${b.recall.toFixed(4)} | ${ratio(b.recall, r.exhaustive.recall)} | ${b.ndcg.toFixed(4)} | ${ratio(b.ndcg, r.exhaustive.ndcg)} | ${Math.round(b.candidates)} | ${(100 * b.catalogShare).toFixed(2)}% | ${b.fallbacks} |`),
    '',
  ]
}

function ratio (a: number, b: number): string {
  return b > 0 ? (a / b).toFixed(3) : '-'
}

/** SVG elements of a panel (placed at x0, y0, w x h): Recall@K against the share of the catalog scored, one point per beam, exhaustive as a line. */
export function deepRetrievalSvgPanel (r: DeepRetrievalReport, x0: number, y0: number, w: number, h: number): string[] {
  const m = { l: 70, r: 200, t: 30, b: 50 }
  const pts = r.beams
  const xMax = Math.max(0.01, ...pts.map((b) => b.catalogShare)) * 1.1
  const yMax = Math.max(0.001, r.exhaustive.recall, ...pts.map((b) => b.recall)) * 1.15
  const sx = (v: number): number => x0 + m.l + (v / xMax) * (w - m.l - m.r)
  const sy = (v: number): number => y0 + h - m.b - (v / yMax) * (h - m.t - m.b)
  const out: string[] = [
    `<text x="${x0 + w / 2}" y="${y0 + 18}" text-anchor="middle" font-size="14">Deep Retrieval: Recall@${r.k} against items scored (beam sizes)</text>`,
    `<line x1="${sx(0)}" y1="${sy(0)}" x2="${x0 + w - m.r}" y2="${sy(0)}" stroke="black"/>`,
    `<line x1="${sx(0)}" y1="${y0 + m.t}" x2="${sx(0)}" y2="${sy(0)}" stroke="black"/>`,
    `<line x1="${sx(0)}" y1="${sy(r.exhaustive.recall).toFixed(1)}" x2="${x0 + w - m.r}" y2="${sy(r.exhaustive.recall).toFixed(1)}" stroke="#888888" stroke-dasharray="4 3"/>`,
    `<text x="${x0 + w - m.r + 6}" y="${(sy(r.exhaustive.recall) + 4).toFixed(1)}">exhaustive ${r.exhaustive.recall.toFixed(4)}</text>`,
    `<text x="${x0 + w / 2}" y="${y0 + h - 12}" text-anchor="middle">share of the catalog scored per query (%)</text>`,
    `<text x="${x0 + 18}" y="${y0 + h / 2}" text-anchor="middle" transform="rotate(-90 ${x0 + 18} ${y0 + h / 2})">Recall@${r.k}</text>`,
  ]
  for (let t = 0; t <= 5; t++) {
    const xv = (xMax * t) / 5
    const yv = (yMax * t) / 5
    out.push(`<line x1="${sx(xv).toFixed(1)}" y1="${sy(0)}" x2="${sx(xv).toFixed(1)}" y2="${sy(0) + 5}" stroke="black"/><text x="${sx(xv).toFixed(1)}" y="${sy(0) + 20}" text-anchor="middle">${(100 * xv).toFixed(1)}</text>`)
    out.push(`<line x1="${sx(0) - 5}" y1="${sy(yv).toFixed(1)}" x2="${sx(0)}" y2="${sy(yv).toFixed(1)}" stroke="black"/><text x="${sx(0) - 8}" y="${(sy(yv) + 4).toFixed(1)}" text-anchor="end">${yv.toFixed(3)}</text>`)
  }
  out.push(`<polyline fill="none" stroke="#ff7f0e" stroke-width="2" points="${pts.map((b) => `${sx(b.catalogShare).toFixed(1)},${sy(b.recall).toFixed(1)}`).join(' ')}"/>`)
  for (const b of pts) {
    out.push(`<circle cx="${sx(b.catalogShare).toFixed(1)}" cy="${sy(b.recall).toFixed(1)}" r="4" fill="${b.beam === r.servedBeam ? '#d62728' : '#ff7f0e'}"/>`)
    out.push(`<text x="${(sx(b.catalogShare) + 6).toFixed(1)}" y="${(sy(b.recall) + 14).toFixed(1)}" font-size="10">B=${b.beam}</text>`)
  }
  return out
}
