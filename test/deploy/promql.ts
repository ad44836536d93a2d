/**
 * What a PromQL expression reads, from Prometheus' own grammar (@prometheus-io/lezer-promql): the
 * metric name and matched label names of every vector selector, and any syntax error.
 */
import { parser } from '@prometheus-io/lezer-promql'

export interface Selector {
  readonly metric: string
  readonly labels: readonly string[]
}

export interface ParsedExpr {
  readonly selectors: readonly Selector[]
  /** Text of every error node; empty for a valid expression. */
  readonly errors: readonly string[]
}

// Grafana replaces these before a query reaches Prometheus; the stand-ins have the same syntax role.
const GRAFANA_INTERVALS = /\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}/g
const GRAFANA_VARIABLES = /\$\{?\w+\}?/g

/** An expression as Grafana would send it (intervals as 5m, variables as a plain value inside their quotes). */
export function substituteGrafana (expr: string): string {
  return expr.replace(GRAFANA_INTERVALS, '5m').replace(GRAFANA_VARIABLES, 'x')
}

export function parsePromql (expr: string): ParsedExpr {
  const tree = parser.parse(expr)
  const selectors: Selector[] = []
  const errors: string[] = []
  const cursor = tree.cursor()
  do {
    const node = cursor.node
    if (node.type.isError) errors.push(`${JSON.stringify(expr.slice(node.from, node.to))} at ${node.from}`)
    if (node.type.name === 'VectorSelector') {
      const name = node.getChild('Identifier')
      const labels = node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher').map((m) => {
        const l = m.getChild('LabelName')
        return l ? expr.slice(l.from, l.to) : ''
      }) ?? []
      if (name) selectors.push({ metric: expr.slice(name.from, name.to), labels })
      else errors.push(`a selector without a metric name: ${expr.slice(node.from, node.to)}`)
    }
  } while (cursor.next())
  return { selectors, errors }
}

/** Grafana's `label_values(metric{...}, label)` variable query: the selector it reads. */
export function parseLabelValuesQuery (query: string): ParsedExpr {
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query.trim())
  if (!m) return { selectors: [], errors: [`not a label_values(selector, label) query: ${query}`] }
  const inner = parsePromql(substituteGrafana(m[1]))
  return { selectors: inner.selectors.map((s) => ({ ...s, labels: [...s.labels, m[2]] })), errors: inner.errors }
}
