/**
 * The demo page in a real browser (Debian's chromium, driven by playwright-core): it opens /demo,
 * picks a user, clicks an item, and the list changes while the click is stored in the service's
 * state. The screenshot is kept under .test-artifacts/ (not in git) for a person to look at.
 * .ci/run installs chromium when it is missing; without it the test is skipped, except in CI.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { chromium } from 'playwright-core'
import { createMemoryStore } from '../../src/state/memory-store.js'
import { createTestApp } from '../app/helpers.js'

const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
export const ARTIFACTS = new URL('../../.test-artifacts/', import.meta.url).pathname
const skip = existsSync(CHROMIUM) || process.env.CI === 'true' ? false : `no ${CHROMIUM} (apt-get install -y chromium)`

test('the demo page in chromium: pick a user, click an item, the list changes and the click is stored', { skip, timeout: 120_000 }, async (t) => {
  const store = createMemoryStore()
  t.after(() => store.close())
  const { app, model } = await createTestApp(t, { bundle: { items: 60, users: 12, seen: true }, app: { stateStore: store }, config: { MAX_EVENT_LOOP_DELAY_MS: '0' } })
  // The trainer writes an evaluation chart beside every bundle; the page shows it.
  await writeFile(join(model.dir, 'eval.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="120"><rect width="640" height="120" fill="#eef"/><text x="20" y="65" font-size="24">evaluation chart</text></svg>')
  const address = await app.listen({ port: 0, host: '127.0.0.1' })

  // A fresh profile every run: nothing cached or remembered from an earlier one.
  const profile = await mkdtemp(join(tmpdir(), 'hashrec-chromium-'))
  t.after(() => rm(profile, { recursive: true, force: true }))
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: false, args: FLAGS, viewport: { width: 1280, height: 1000 } })
  t.after(() => browser.close())
  const page = browser.pages()[0] ?? await browser.newPage()
  // Waits are on conditions; a loaded 2-core machine starts chromium and paints slowly, so allow more than the 30 s default.
  page.setDefaultTimeout(90_000)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()) })

  await page.goto(`${address}/demo`)
  assert.match(page.url(), /\/demo\/$/)
  // The model card fills the known users; the page starts with the most active one. Load shedding
  // is off: with the browser driven from this process, a busy machine's event-loop delay would
  // otherwise answer the page's first request 503, which this test is not about.
  await page.locator('#model-card dd').first().waitFor().catch((err: Error) => { throw new Error(`${err.message}; page errors: ${errors.join(' | ') || 'none'}`) })
  assert.equal(await page.locator('#known-users option').count(), 10)

  // Pick a user by typing their id (the field has its label) and asking.
  await page.getByLabel('User id').fill('u5')
  await page.getByRole('button', { name: 'Show recommendations' }).click()
  await page.getByRole('status').filter({ hasText: 'Recommendations for u5' }).waitFor()
  const ids = (): Promise<string[]> => page.locator('#items-a > li[data-item]').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-item') ?? ''))
  const before = await ids()
  assert.equal(before.length, 10)
  assert.equal(await page.locator('#items-b > li[data-item]').count(), 10, 'the second method side by side')

  const clicked = before[0]
  await page.locator(`#items-a > li[data-item="${clicked}"] button`, { hasText: 'Click' }).click()
  await page.locator(`#items-a > li[data-item="${clicked}"]`).waitFor({ state: 'detached' })
  await page.locator('#items-a > li[data-item]').first().waitFor()
  const after = await ids()
  assert.notDeepEqual(after, before, 'the list changed')
  assert.ok(!after.includes(clicked), 'the clicked item is left out (seen)')
  assert.deepEqual(await store.recentItems('u5', 10), [clicked], 'the click was stored')
  await page.locator('#events li', { hasText: 'stored' }).waitFor()

  // The explanations say which seen item each one is near.
  assert.match(await page.locator('#items-a .why').first().innerText(), /^Because of Item \d+$/)
  await page.locator(`#items-a > li[data-item="${after[0]}"] button`, { hasText: 'Similar' }).click()
  await page.locator('#similar-items > li[data-item]').first().waitFor()
  assert.equal(await page.locator('#similar').isVisible(), true)

  await page.locator('#eval-figure img').waitFor()
  assert.equal(await page.locator('#eval').evaluate((img) => (img as { complete: boolean, naturalWidth: number }).complete && (img as { naturalWidth: number }).naturalWidth > 0), true, 'the evaluation chart loaded')

  await mkdir(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true })
  assert.deepEqual(errors, [])
})
