// The demo page: plain DOM and fetch against the service's own API (no framework, no build step).
// Every value from the API is written as text (textContent), never as markup.

const $ = (id) => document.getElementById(id)
const K = 10

const state = { user: '', tag: '', diversity: 0 }

async function api (path, init) {
  const res = await fetch(path, init)
  const type = res.headers.get('content-type') ?? ''
  const body = type.includes('json') ? await res.json() : null
  if (!res.ok) throw new Error(body?.detail ?? `${res.status} ${res.statusText}`)
  return body
}

function el (tag, props = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = value
    else if (key.startsWith('data-')) node.setAttribute(key, value)
    else node[key] = value
  }
  for (const child of children) if (child) node.append(child)
  return node
}

function say (message, error = false) {
  const status = $('status')
  status.textContent = message
  status.classList.toggle('error', error)
}

function query (method) {
  const params = new URLSearchParams({ k: String(K), method, explain: 'true', withTags: 'true', measureDiversity: 'true' })
  if (state.tag) params.set('tags', state.tag)
  if (state.diversity > 0) params.set('diversity', String(state.diversity))
  return params
}

function why (item) {
  if (item.because) return `Because of ${item.because.title ?? item.because.id}`
  if (item.reason === 'trending') return 'Trending now'
  if (item.reason === 'popular') return 'Popular'
  if (item.reason === 'profile') return 'From the profile the model learned'
  return ''
}

function itemNode (item, actions) {
  const li = el('li', { 'data-item': item.id })
  li.append(el('span', { className: 'rank', text: `${item.rank}.` }))
  li.append(el('h3', { text: item.title ?? item.id }))
  if (item.tags?.length) li.append(el('ul', { className: 'tags', ariaLabel: 'tags' }, ...item.tags.map((t) => el('li', { text: t }))))
  const reason = why(item)
  if (reason) li.append(el('p', { className: 'why', text: reason }))
  const buttons = el('div', { className: 'actions' })
  for (const [label, handler, secondary] of actions) {
    const b = el('button', { type: 'button', text: label, className: secondary ? 'secondary' : '' })
    b.setAttribute('aria-label', `${label}: ${item.title ?? item.id}`)
    b.addEventListener('click', () => handler(item, b))
    buttons.append(b)
  }
  li.append(buttons)
  return li
}

function renderList (side, method, answer) {
  $(`title-${side}`).textContent = method
  const notes = [`${answer.method}${answer.fallback ? ` (${answer.fallback} fallback)` : ''}`, `source ${answer.source}`]
  if (typeof answer.meanPairwiseSimilarity === 'number') notes.push(`mean similarity ${answer.meanPairwiseSimilarity.toFixed(2)}`)
  $(`meta-${side}`).textContent = notes.join(' · ')
  const list = $(`items-${side}`)
  list.replaceChildren(...answer.items.map((item) => itemNode(item, [['Click', click], ['Similar', similar, true]])))
  if (answer.items.length === 0) list.append(el('li', { text: 'No items match.' }))
}

async function refresh () {
  if (!state.user) return
  const methods = [$('method-a').value, $('method-b').value]
  say(`Loading recommendations for ${state.user}…`)
  try {
    const answers = await Promise.all(methods.map((m) => api(`/v1/users/${encodeURIComponent(state.user)}/recommendations?${query(m)}`)))
    renderList('a', methods[0], answers[0])
    renderList('b', methods[1], answers[1])
    say(`Recommendations for ${state.user}`)
  } catch (err) {
    say(`Could not load recommendations: ${err.message}`, true)
  }
}

async function click (item, button) {
  button.disabled = true
  try {
    const result = await api('/v1/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [{ userId: state.user, itemId: item.id, type: 'click' }] }) })
    const stored = result.accepted === 1
    $('events').prepend(el('li', { text: `${state.user} clicked ${item.title ?? item.id}: ${stored ? 'stored' : `rejected (${result.rejected[0]?.reason})`}` }))
    await refresh()
    say(`Clicked ${item.title ?? item.id}; the lists now leave it out and follow the click.`)
  } catch (err) {
    say(`Could not send the click: ${err.message}`, true)
    button.disabled = false
  }
}

async function similar (item) {
  const params = new URLSearchParams({ k: String(K), explain: 'true', withTags: 'true' })
  if (state.tag) params.set('tags', state.tag)
  try {
    const answer = await api(`/v1/items/${encodeURIComponent(item.id)}/similar?${params}`)
    $('similar-title').textContent = `Similar to ${item.title ?? item.id}`
    $('similar-items').replaceChildren(...answer.items.map((i) => itemNode(i, [['Click', click]])))
    $('similar').hidden = false
    $('similar-title').focus()
  } catch (err) {
    say(`Could not load similar items: ${err.message}`, true)
  }
}

function renderModel (model) {
  const card = $('model-card')
  const variants = Array.isArray(model.training?.eval?.variants) ? model.training.eval.variants : []
  const rows = [
    ['Model', `${model.id} @ ${model.version}`],
    ['Items', model.counts.items.toLocaleString()],
    ['Users', model.counts.users.toLocaleString()],
    ['Codes', `${model.codeBits} bits`],
    ['Vectors', `${model.dimension} dimensions (${model.embeddingDtype})`],
    ['Index', model.hnsw ? `HNSW ${model.hnsw.space}, M ${model.hnsw.M}, ef ${model.hnsw.efSearch}` : 'exact'],
    ['Loaded', model.loadedAt],
  ]
  for (const v of variants) rows.push([`Recall@10 · NDCG@10, ${v.name}${v.name === model.training.eval.served ? ' (served)' : ''}`, `${Number(v.recall).toFixed(3)} · ${Number(v.ndcg).toFixed(3)}`])
  card.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]))
  const users = model.catalog?.exampleUserIds ?? []
  $('known-users').replaceChildren(...users.map((u) => el('option', { value: u })))
  if (users.length > 0) $('user-hint').textContent = `Known users, most active first: ${users.slice(0, 5).join(', ')}…`
  const tags = model.catalog?.tags ?? []
  $('tag').replaceChildren(el('option', { value: '', text: 'any tag' }), ...tags.map((t) => el('option', { value: t.tag, text: `${t.tag} (${t.items})` })))
  if (!state.user && users.length > 0) { state.user = users[0]; $('user').value = users[0] }
}

async function showEval () {
  const res = await fetch('/v1/model/eval.svg', { method: 'HEAD' })
  if (!res.ok) return
  $('eval').src = '/v1/model/eval.svg'
  $('eval-figure').hidden = false
}

function wire () {
  $('who').addEventListener('submit', (event) => {
    event.preventDefault()
    state.user = $('user').value.trim()
    refresh()
  })
  $('visitor').addEventListener('click', () => {
    state.user = `visitor-${Math.random().toString(36).slice(2, 10)}`
    $('user').value = state.user
    refresh()
  })
  for (const id of ['method-a', 'method-b']) $(id).addEventListener('change', refresh)
  $('tag').addEventListener('change', () => { state.tag = $('tag').value; refresh() })
  $('diversity').addEventListener('change', () => {
    state.diversity = Number($('diversity').value)
    $('diversity-value').textContent = state.diversity.toFixed(1)
    refresh()
  })
}

async function start () {
  wire()
  try {
    renderModel(await api('/v1/model'))
    showEval().catch(() => {})
    await refresh()
  } catch (err) {
    say(`The service is not ready: ${err.message}`, true)
  }
}

start()
