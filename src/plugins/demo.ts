/**
 * The demo page (demo/ at the repository root: plain HTML, CSS and a script against this API),
 * served as static files by @fastify/static at /demo/. Nothing is built for it, so the page is
 * what the repository holds; the Docker image copies the folder beside dist/.
 */
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import fp from 'fastify-plugin'

/** demo/ at the repository root: two levels up from both src/plugins and dist/plugins. */
export const DEMO_DIR = fileURLToPath(new URL('../../demo/', import.meta.url))

export default fp(async (app) => {
  await app.register(fastifyStatic, {
    root: DEMO_DIR,
    prefix: '/demo',
    // /demo answers with a redirect to /demo/, whose index is the page.
    redirect: true,
    index: 'index.html',
    // swagger-ui registers the same plugin; one reply decorator is enough (and a second would throw).
    decorateReply: false,
    // The files change only with a deployment: browsers may keep them a little while.
    maxAge: '10m',
  })
}, { name: 'hashrec-demo', fastify: '5.x' })
