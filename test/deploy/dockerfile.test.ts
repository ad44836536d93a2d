import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { DockerfileParser, type Copy, type Healthcheck, type Instruction } from 'dockerfile-ast'

// No image can be built where the tests run (no Docker engine, no registry but npm's): the
// Dockerfile is checked for what makes it build offline and run well; docs/deploy.md says how its
// build stage was run by hand with the image's Node.
const dockerfile = DockerfileParser.parse(readFileSync('Dockerfile', 'utf8'))
const instructions = dockerfile.getInstructions()
const args = (i: Instruction): string => i.getArgumentsContent() ?? ''

/** Instructions per stage, ARG defaults substituted into FROM. */
function stages (): { image: string, name: string, body: Instruction[] }[] {
  const defaults = new Map<string, string>()
  const out: { image: string, name: string, body: Instruction[] }[] = []
  for (const i of instructions) {
    const kw = i.getKeyword()
    if (kw === 'ARG' && out.length === 0) { const [k, v] = args(i).split('='); defaults.set(k, v ?? '') } else if (kw === 'FROM') {
      const [image, , name] = args(i).replace(/\$\{(\w+)\}/g, (_, k: string) => defaults.get(k) ?? '').split(/\s+/)
      out.push({ image, name: name ?? '', body: [] })
    } else out.at(-1)?.body.push(i)
  }
  return out
}

test('the image builds from Node\'s own images with the npm registry alone: no package manager but npm, headers from the image', () => {
  const [build, runtime] = stages()
  const major = (image: string): number => Number(/^node:(\d+)-/.exec(image)?.[1])
  // Node's even-numbered releases are its long-term-support lines; 22 and 24 are supported now.
  assert.ok(major(build.image) >= 22 && major(build.image) % 2 === 0, build.image)
  assert.equal(runtime.image, `${build.image}-slim`, 'the runtime is the slim variant of the same Node and Debian release')
  assert.doesNotMatch(build.image, /slim|alpine/, 'the full image brings python3, make and g++ for node-gyp')
  for (const i of instructions.filter((x) => x.getKeyword() === 'RUN')) {
    assert.doesNotMatch(args(i), /\b(apt-get|apt|apk|curl|wget|git)\b/, `RUN ${args(i)} reaches beyond the npm registry`)
  }
  const env = build.body.filter((i) => i.getKeyword() === 'ENV').map(args).join(' ')
  assert.match(env, /npm_config_nodedir=\/usr\/local\b/, 'node-gyp builds against the image\'s headers instead of downloading them')
  const npmCi = build.body.findIndex((i) => i.getKeyword() === 'RUN' && /\bnpm ci\b/.test(args(i)))
  const nodedir = build.body.findIndex((i) => i.getKeyword() === 'ENV' && /npm_config_nodedir/.test(args(i)))
  assert.ok(nodedir >= 0 && nodedir < npmCi, 'set before npm ci')
})

test('the runtime stage runs node directly as an unprivileged user, with a health check on /readyz', () => {
  const runtime = stages().at(-1)!
  const user = runtime.body.filter((i) => i.getKeyword() === 'USER').map(args).at(-1)
  assert.ok(user && !/^(root|0)(:|$)/.test(user), `USER ${user}`)
  assert.match(user, /^\d+(:\d+)?$/, 'a numeric user, which Kubernetes\' runAsNonRoot can verify')
  const cmd = JSON.parse(args(runtime.body.find((i) => i.getKeyword() === 'CMD')!)) as string[]
  assert.equal(cmd[0], 'node', 'exec form with node itself, not npm or a shell, so signals reach it')
  assert.equal(cmd.at(-1), 'dist/index.js')
  const health = runtime.body.find((i) => i.getKeyword() === 'HEALTHCHECK') as Healthcheck
  assert.deepEqual(health.getFlags().map((f) => f.getName()).sort(), ['interval', 'retries', 'start-period', 'timeout'])
  assert.match(args(health), /^CMD \[.*\/readyz/)
  assert.ok(runtime.body.some((i) => i.getKeyword() === 'ENV' && /NODE_ENV=production/.test(args(i))))
})

test('every file the Dockerfile copies from the build context exists and is not excluded by .dockerignore', () => {
  const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  const copies = instructions.filter((x) => x.getKeyword() === 'COPY') as Copy[]
  for (const i of copies.filter((c) => !c.getFlags().some((f) => f.getName() === 'from'))) {
    for (const source of i.getArguments().map((a) => a.getValue()).slice(0, -1)) {
      assert.ok(existsSync(source), `COPY ${source}: missing`)
      assert.ok(!ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `COPY ${source} is excluded by .dockerignore`)
    }
  }
})

test('package.json engines admit the Node CI runs and the Node of the image', () => {
  const engines = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node
  const floor = Number(/^>=(\d+)/.exec(engines)?.[1])
  const imageMajor = Number(/^node:(\d+)/.exec(stages()[0].image)?.[1])
  assert.ok(floor <= Number(process.versions.node.split('.')[0]), `engines ${engines} admit this Node (${process.version})`)
  assert.ok(floor <= imageMajor, `engines ${engines} admit the image's Node ${imageMajor}`)
})
