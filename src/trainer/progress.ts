/** Live progress (epochs, loss, elapsed) on a TTY; nothing when output is piped or logged. */
export interface Progress {
  update (text: string): void
  done (): void
}

export function createProgress (stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update () {}, done () {} }
  let shown = false
  return {
    update (text) {
      const width = Math.max(20, (stream.columns || 80) - 1)
      stream.write(`\r${text.slice(0, width).padEnd(width)}`)
      shown = true
    },
    done () {
      if (shown) stream.write('\n')
      shown = false
    },
  }
}
