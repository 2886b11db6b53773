// Browser tests of the Luma dashboard and API reference.
//
// Starts the real server binary (LUMA_BIN, else `go build`) on a free port,
// twice: in local mode and with LUMA_API_KEY set. Drives Debian's Chromium
// (/usr/bin/chromium, or CHROMIUM) through playwright-core — nothing is
// downloaded — with a fresh profile per run. A test fails on any console
// error or page error it did not expect (Chromium logs every 4xx answer as a
// console error, so tests that provoke one name it). Each test leaves a
// screenshot in screenshots/ (git-ignored).
//
//   node run.mjs                       all tests
//   node run.mjs --only=sql            tests whose name contains "sql"
//   node run.mjs --docs-screenshots    also write docs/img/*.png for docs/DASHBOARD.md

import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const shots = join(here, 'screenshots');
const docsImg = join(repo, 'docs/img');
const argv = process.argv.slice(2);
const docsScreenshots = argv.includes('--docs-screenshots');
const only = (argv.find(a => a.startsWith('--only=')) || '').slice('--only='.length);
const ADMIN_KEY = 'e2e-admin-key-' + process.pid;
const tmp = mkdtempSync(join(tmpdir(), 'luma-e2e-'));
const children = [];

process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

// --- the server -----------------------------------------------------------

function lumaBinary() {
  if (process.env.LUMA_BIN) return process.env.LUMA_BIN;
  const bin = join(tmp, 'luma');
  console.log('building the server (LUMA_BIN is not set)…');
  execFileSync('go', ['build', '-o', bin, './cmd/luma'], { cwd: repo, stdio: 'inherit' });
  return bin;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

async function startServer(bin, name, env = {}, args = []) {
  const port = await freePort();
  const dataDir = join(tmp, 'data-' + name);
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--data-dir', dataDir, '--logs', 'warning', ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url + '/v1/health')).ok) break;
    } catch { /* not up yet */ }
    if (i > 300) throw new Error('server did not start');
    await new Promise(r => setTimeout(r, 50));
  }
  const api = async (method, path, body, key) => {
    const headers = {};
    if (key) headers.Authorization = 'Bearer ' + key;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text && (res.headers.get('content-type') || '').startsWith('application/json') ? JSON.parse(text) : text };
  };
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise(r => (child.exitCode !== null ? r() : child.once('exit', r)));
  };
  return { url, api, stop };
}

// --- the browser ----------------------------------------------------------

const chromiumFlags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function launch(name) {
  const profile = mkdtempSync(join(tmp, 'profile-' + name + '-'));
  // launchPersistentContext is how Playwright takes --user-data-dir.
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: chromiumFlags,
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
  });
}

// --- the tests ------------------------------------------------------------

const results = [];

async function runTest(context, srv, name, fn) {
  if (only && !name.includes(only)) return;
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const allowed = [];
  const problems = [];
  page.on('console', m => {
    if (m.type() !== 'error') return;
    const text = `${m.text()} (${m.location().url})`;
    if (process.env.E2E_DEBUG) console.log('console:', Date.now(), text);
    if (!allowed.some(re => re.test(text))) problems.push('console error: ' + text);
  });
  page.on('pageerror', e => problems.push('page error: ' + (e.stack || e.message)));
  const t = {
    page, srv,
    // allow lets console errors matching re through (answers a test provokes).
    allow: re => allowed.push(re),
    // shot saves a screenshot; with --docs-screenshots also to docs/img
    // (unless docs is false).
    shot: async (file, { docs = true, ...opts } = {}) => {
      await page.screenshot({ path: join(shots, file + '.png'), ...opts });
      if (docsScreenshots && docs) await page.screenshot({ path: join(docsImg, file + '.png'), ...opts });
    },
  };
  const start = Date.now();
  try {
    await fn(t);
    await page.waitForTimeout(50); // let late console messages arrive
    if (problems.length) throw new Error(problems.join('\n'));
    results.push({ name, ok: true, ms: Date.now() - start });
    console.log(`ok   ${name} (${Date.now() - start} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${e.message}`);
    await page.screenshot({ path: join(shots, 'FAIL-' + name.replace(/\W+/g, '_') + '.png') }).catch(() => {});
  } finally {
    await page.close();
  }
}

const rowsText = loc => loc.allInnerTexts().then(a => a.join('\n'));

async function localTests(context, srv) {
  await runTest(context, srv, 'overview shows health, info and a live chart', async ({ page, shot }) => {
    await srv.api('PUT', '/v1/state/overview:seed', { value: 1 });
    await page.goto(srv.url + '/');
    await page.getByTestId('health-status').getByText('ok').waitFor();
    assert.match(await page.getByTestId('data-dir').innerText(), /data-local/);
    assert.equal(await page.getByTestId('key-prompt').isVisible(), false, 'no key prompt in local mode');
    assert.match(await page.getByTestId('key-status').innerText(), /local mode/);
    // Two metric polls make the first rate sample.
    await page.locator('.legend span').first().waitFor();
    if (docsScreenshots) {
      // Some traffic for the chart: writes for ten seconds (five samples).
      const until = Date.now() + 10000;
      for (let i = 0; Date.now() < until; i++) {
        await srv.api('PUT', `/v1/state/demo:${i % 50}`, { value: { i } });
        if (i % 3 === 0) await srv.api('POST', '/v1/events', { type: 'demo.tick', payload: { i } });
        await new Promise(r => setTimeout(r, 20 + 30 * Math.sin(i / 40) ** 2));
      }
      await page.waitForTimeout(2100);
    }
    await shot('overview');
  });

  await runTest(context, srv, 'vectors: create a collection and see it listed', async ({ page, shot }) => {
    await page.goto(srv.url + '/#/vectors');
    await page.getByTestId('vec-name').fill('e2e_docs');
    await page.getByTestId('vec-dim').fill('4');
    await page.getByTestId('vec-create').click();
    await page.getByTestId('vec-list').getByText('e2e_docs').waitFor();
    await page.getByTestId('vec-info').getByText('count').waitFor();
    const r = await srv.api('GET', '/v1/vector');
    assert.ok(r.body.collections.some(c => c.collection === 'e2e_docs' && c.dim === 4));
  });

  await runTest(context, srv, 'vectors: search playground by id, with filters and group_by', async ({ page, shot }) => {
    const items = [
      { id: 'a', vector: [1, 0, 0, 0], meta: { lang: 'en', topic: 'db' } },
      { id: 'b', vector: [0.9, 0.1, 0, 0], meta: { lang: 'es', topic: 'db' } },
      { id: 'c', vector: [0, 1, 0, 0], meta: { lang: 'en', topic: 'ai' } },
      { id: 'd', vector: [0.8, 0.3, 0.1, 0], meta: { lang: 'en', topic: 'ai' } },
    ];
    assert.equal((await srv.api('POST', '/v1/vector/e2e_docs/upsert_batch', { items })).status, 200);
    await page.goto(srv.url + '/#/vectors');
    await page.getByTestId('vec-list').getByText('e2e_docs').click();
    await page.getByTestId('vec-vacuum').click();
    await page.getByText(/^Vacuumed: segments/).waitFor();
    await page.getByTestId('search-id').fill('a');
    await page.getByTestId('search-run').click();
    const hits = page.getByTestId('search-hits');
    await hits.waitFor();
    const first = await hits.locator('tbody tr').first().innerText();
    assert.match(first, /^a\s+1\.0000/, 'the point itself ranks first');
    assert.equal(await hits.locator('tbody tr').count(), 4);
    await page.getByTestId('search-filters').fill('{"lang": "en"}');
    await page.getByTestId('search-run').click();
    await page.getByText('3 hits').waitFor();
    assert.doesNotMatch(await rowsText(page.getByTestId('search-hits')), /\bb\b/);
    await page.getByTestId('search-filters').fill('');
    await page.getByTestId('search-group-by').fill('topic');
    await page.getByTestId('search-run').click();
    await page.getByText('2 groups').waitFor();
    assert.equal(await page.getByTestId('search-group').count(), 2);
    await shot('vectors', { fullPage: true });
  });

  await runTest(context, srv, 'events: a write through the API appears live, custom types too, pause and resume lose nothing', async ({ page, shot }) => {
    await page.goto(srv.url + '/#/events');
    await page.getByTestId('ev-status').getByText(/^live/).waitFor();
    await srv.api('PUT', '/v1/state/live:1', { value: { hello: 'world' } });
    const list = page.getByTestId('ev-list');
    await list.locator('[data-type="state_updated"]', { hasText: 'live:1' }).waitFor();
    assert.equal((await srv.api('POST', '/v1/events', { type: 'order.created', key: 'orders/42', payload: { total: 99.5 } })).status, 200);
    await list.locator('[data-type="order.created"]', { hasText: 'orders/42' }).waitFor();
    await page.getByTestId('ev-pause').click();
    await page.getByTestId('ev-status').getByText(/^paused at offset/).waitFor();
    await srv.api('PUT', '/v1/state/live:while-paused', { value: 2 });
    await page.waitForTimeout(200);
    assert.equal(await list.getByText('live:while-paused').count(), 0, 'nothing arrives while paused');
    await page.getByTestId('ev-pause').click(); // resume
    await list.locator('[data-type="state_updated"]', { hasText: 'live:while-paused' }).waitFor();
    // Filters are the stream's: a key prefix drops the other keys.
    await page.getByTestId('ev-prefix').fill('only:');
    await page.getByTestId('ev-connect').click();
    await page.getByTestId('ev-status').getByText(/^live/).waitFor();
    await srv.api('PUT', '/v1/state/other:1', { value: 1 });
    await srv.api('PUT', '/v1/state/only:1', { value: 1 });
    await list.locator('[data-type="state_updated"]', { hasText: 'only:1' }).waitFor();
    assert.equal(await list.getByText('other:1').count(), 0);
    // Resume from an offset: replay from the oldest retained event.
    await page.getByTestId('ev-prefix').fill('');
    await page.getByTestId('ev-from').selectOption('offset');
    await page.getByTestId('ev-offset').fill('0');
    await page.getByTestId('ev-connect').click();
    await list.locator('[data-type="state_updated"]', { hasText: 'live:1' }).waitFor();
    await list.locator('[data-type="order.created"]').waitFor();
    await shot('events', { clip: { x: 0, y: 0, width: 1280, height: 560 } });
  });

  await runTest(context, srv, 'state: edit a key while it changes through the API shows the CAS conflict', async ({ page, shot, allow }) => {
    await srv.api('PUT', '/v1/state/cas:demo', { value: { n: 1 } });
    for (let i = 0; i < 3; i++) await srv.api('PUT', `/v1/state/cas:other${i}`, { value: i, ttl_ms: 3600000 });
    await page.goto(srv.url + '/#/state');
    await page.getByTestId('state-prefix').fill('cas:');
    await page.getByTestId('state-list-button').click();
    await page.getByTestId('state-list').getByText('cas:demo').click();
    await page.getByTestId('state-revision').getByText('revision 1').waitFor();
    await page.getByTestId('state-value').fill('{"n": 2, "by": "dashboard"}');
    const r = await srv.api('PUT', '/v1/state/cas:demo', { value: { n: 100, by: 'api' } });
    assert.equal(r.body.revision, 2);
    allow(/status of 409/);
    await page.getByTestId('state-save').click();
    const conflict = page.getByTestId('cas-conflict');
    await conflict.waitFor();
    assert.match(await conflict.innerText(), /revision 1.*409 revision_mismatch/s);
    await conflict.getByTestId('cas-now').getByText('The server now has revision 2.').waitFor();
    assert.deepEqual((await srv.api('GET', '/v1/state/cas:demo')).body.value, { n: 100, by: 'api' }, 'nothing written');
    await shot('state-conflict');
    await page.getByTestId('cas-reload').click();
    await page.getByTestId('state-revision').getByText('revision 2').waitFor();
    assert.match(await page.getByTestId('state-value').inputValue(), /"api"/);
    await page.getByTestId('state-value').fill('{"n": 3}');
    await page.getByTestId('state-save').click();
    await page.getByTestId('state-revision').getByText('revision 3').waitFor();
    assert.deepEqual((await srv.api('GET', '/v1/state/cas:demo')).body.value, { n: 3 });
    await shot('state', { docs: false });
  });

  await runTest(context, srv, 'state: pages follow X-Next-Cursor', async ({ page }) => {
    for (let i = 0; i < 30; i++) await srv.api('PUT', `/v1/state/page:${String(i).padStart(2, '0')}`, { value: i });
    await page.goto(srv.url + '/#/state');
    await page.getByTestId('state-prefix').fill('page:');
    await page.getByRole('combobox').first().selectOption('25');
    await page.getByTestId('state-list').getByText('page:24').waitFor();
    assert.equal(await page.getByTestId('state-list').locator('tbody tr').count(), 25);
    await page.getByTestId('state-next').click();
    await page.getByTestId('state-list').getByText('page:29').waitFor();
    assert.equal(await page.getByTestId('state-list').locator('tbody tr').count(), 5);
    assert.equal(await page.getByTestId('state-next').isDisabled(), true);
  });

  await runTest(context, srv, 'sql: run statements and see the rows; errors in place', async ({ page, shot, allow }) => {
    await page.goto(srv.url + '/#/sql');
    await page.getByTestId('sql-text').fill('CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT, score REAL)');
    await page.getByTestId('sql-exec').click();
    await page.getByTestId('sql-result').getByText('0 rows affected').waitFor();
    await page.getByTestId('sql-text').fill("INSERT INTO notes(body, score) VALUES ('first', 1.5), ('second', 2), (?, NULL)");
    await page.getByTestId('sql-params').fill('["third"]');
    await page.getByTestId('sql-exec').click();
    await page.getByTestId('sql-result').getByText('3 rows affected').waitFor();
    await page.getByTestId('sql-params').fill('');
    await page.getByTestId('sql-text').fill('SELECT id, body, score FROM notes ORDER BY id');
    await page.getByTestId('sql-query').click();
    const rows = page.getByTestId('sql-rows');
    await rows.waitFor();
    assert.deepEqual(await rows.locator('th').allInnerTexts(), ['id', 'body', 'score']);
    assert.equal(await rows.locator('tbody tr').count(), 3);
    assert.match(await rows.locator('tbody tr').nth(2).innerText(), /3\s+third\s+NULL/);
    await shot('sql');
    allow(/status of 400/);
    await page.getByTestId('sql-text').fill('SELECT * FROM missing_table');
    await page.getByTestId('sql-query').click();
    const err = page.getByTestId('sql-result').getByTestId('error');
    await err.waitFor();
    assert.match(await err.innerText(), /sqlite_error.*no such table: missing_table/);
  });

  await runTest(context, srv, 'documents: find with a filter, sort and pages', async ({ page, shot }) => {
    for (let i = 0; i < 7; i++) {
      await srv.api('PUT', `/v1/doc/tickets/t${i}`, { title: `ticket ${i}`, status: i % 2 ? 'open' : 'closed', sev: i });
    }
    await page.goto(srv.url + '/#/documents');
    await page.getByTestId('doc-collection').fill('tickets');
    await page.getByTestId('doc-filter').fill('{"status": "open"}');
    await page.getByTestId('doc-sort').fill('sev');
    await page.locator('select').first().selectOption('desc');
    await page.getByTestId('doc-find').click();
    const list = page.getByTestId('doc-list');
    await list.waitFor();
    const ids = (await list.locator('tbody tr td:first-child').allInnerTexts());
    assert.deepEqual(ids, ['t5', 't3', 't1']);
    await list.getByText('t3').click();
    await page.getByTestId('doc-json').waitFor();
    assert.match(await page.getByTestId('doc-json').inputValue(), /"ticket 3"/);
    await shot('documents');
  });

  await runTest(context, srv, 'keys page in local mode explains, never prompts', async ({ page }) => {
    await page.goto(srv.url + '/#/keys');
    await page.getByText(/Local mode: no API key is configured/).waitFor();
    assert.equal(await page.getByTestId('key-prompt').isVisible(), false);
  });

  await runTest(context, srv, 'API reference renders the embedded spec for this host', async ({ page, shot }) => {
    await page.goto(srv.url + '/docs');
    assert.equal(await page.getByTestId('server-url').innerText(), srv.url);
    const op = page.locator('details.op[data-path="/v1/state/{key}"][data-method="put"]');
    await op.locator(':scope > summary').click();
    await op.getByText('Request body').waitFor();
    await op.getByText('if_revision').first().waitFor();
    assert.match(await op.locator('pre').last().innerText(), new RegExp(`curl -s -X PUT '${srv.url}/v1/state/\\{key\\}'`));
    await op.evaluate(el => el.scrollIntoView());
    await shot('api-reference');
    await page.locator('#filter').fill('/v1/sql');
    assert.equal(await page.locator('#toc a[data-op]:visible').count(), 2);
  });
}

// useKey stores a key in the tab's session storage (set from /docs, a page
// that calls no API, so nothing is requested without it).
async function useKey(page, srv, key) {
  await page.goto(srv.url + '/docs');
  await page.evaluate(k => sessionStorage.setItem('luma.apiKey', k), key);
}

async function keyedTests(context, srv) {
  await runTest(context, srv, 'a missing or wrong API key shows the prompt; the right one works', async ({ page, shot, allow }) => {
    await page.goto(srv.url + '/');
    const prompt = page.getByTestId('key-prompt');
    await prompt.waitFor();
    assert.match(await prompt.innerText(), /needs an API key/);
    allow(/status of 401/);
    await page.getByTestId('key-input').fill('not-the-key');
    await page.getByTestId('key-submit').click();
    await prompt.getByText(/rejected this API key.*invalid api key/).waitFor();
    await shot('key-prompt');
    await page.getByTestId('key-input').fill(ADMIN_KEY);
    await page.getByTestId('key-submit').click();
    await page.getByTestId('health-status').getByText('ok').waitFor();
    assert.equal(await prompt.isVisible(), false);
    assert.match(await page.getByTestId('key-status').innerText(), new RegExp('key …' + ADMIN_KEY.slice(-4)));
  });

  await runTest(context, srv, 'API keys: create and revoke', async ({ page, shot, allow }) => {
    await useKey(page, srv, ADMIN_KEY);
    await page.goto(srv.url + '/#/keys');
    await page.getByTestId('key-name').fill('ci-bot');
    await page.getByTestId('key-role').selectOption('reader');
    await page.getByTestId('key-create').click();
    const secret = await page.getByTestId('key-secret').innerText();
    assert.match(secret, /^rk_live_/);
    const row = page.getByTestId('key-list').locator('tr', { hasText: 'ci-bot' });
    await row.waitFor();
    assert.match(await row.innerText(), /reader/);
    assert.equal((await srv.api('GET', '/v1/state', undefined, secret)).status, 200, 'the new key works');
    await shot('keys');
    await row.getByTestId('key-revoke').click();
    await row.getByTestId('key-revoke').getByText('Confirm revoke').click();
    await page.getByText('Revoked ci-bot.').waitFor();
    await page.getByTestId('key-list').locator('tr', { hasText: 'ci-bot' }).waitFor({ state: 'detached' });
    assert.equal((await srv.api('GET', '/v1/state', undefined, secret)).status, 401, 'the revoked key is refused');
    // A reader key sees the page but cannot manage keys.
    const reader = (await srv.api('POST', '/v1/auth/keys', { name: 'viewer', role: 'reader' }, ADMIN_KEY)).body.key;
    await page.evaluate(k => sessionStorage.setItem('luma.apiKey', k), reader);
    allow(/status of 403/);
    await page.reload();
    await page.getByText('The key in use is not an admin key').waitFor();
  });

  await runTest(context, srv, 'events stream with the key in a header', async ({ page }) => {
    await useKey(page, srv, ADMIN_KEY);
    await page.goto(srv.url + '/#/events');
    await page.getByTestId('ev-status').getByText(/^live/).waitFor();
    await srv.api('PUT', '/v1/state/keyed:1', { value: true }, ADMIN_KEY);
    await page.getByTestId('ev-list').locator('[data-type="state_updated"]', { hasText: 'keyed:1' }).waitFor();
  });

  await runTest(context, srv, 'events: replaying below the retention floor shows a gap notice', async ({ page, shot }) => {
    for (let i = 0; i < 40; i++) await srv.api('PUT', `/v1/state/gap:${i}`, { value: i }, ADMIN_KEY);
    let floor = 1;
    while (floor <= 1) { // the retention pass runs every second
      floor = (await srv.api('GET', '/v1/health')).body.retention_floor;
      await new Promise(r => setTimeout(r, 100));
    }
    await useKey(page, srv, ADMIN_KEY);
    await page.goto(srv.url + '/#/events');
    await page.getByTestId('ev-from').selectOption('offset');
    await page.getByTestId('ev-offset').fill('0');
    await page.getByTestId('ev-connect').click();
    const gap = page.getByTestId('ev-gap');
    await gap.waitFor();
    assert.match(await gap.innerText(), /^Gap: events 1…\d+ are not available/);
    await page.getByTestId('ev-list').locator('[data-type="state_updated"]', { hasText: 'gap:39' }).waitFor();
    await gap.scrollIntoViewIfNeeded();
    const box = await gap.boundingBox();
    await shot('events-gap', { clip: { x: 0, y: Math.max(0, box.y - 170), width: 1280, height: box.height + 190 } });
  });
}

// --- unit checks of the page modules that need no browser --------------------

async function unitTests() {
  const { sseParser } = await import('../static/assets/sse.js');
  const { parseProm, total } = await import('../static/assets/prom.js');
  const got = [];
  const feed = sseParser(e => got.push(e));
  // Chunks split anywhere; CRLF and LF; comments; multi-line data; no id on gap.
  for (const c of [':keepalive\n\nevent:state_upd', 'ated\nid:7\ndata:{"a":', '1}\n\r\nevent: gap\r\ndata:{"from_offset":8}\r\n', '\r\ndata:x\ndata:y\n\n']) feed(c);
  assert.deepEqual(got, [
    { event: 'state_updated', id: '7', data: '{"a":1}' },
    { event: 'gap', id: null, data: '{"from_offset":8}' },
    { event: 'message', id: null, data: 'x\ny' },
  ]);
  const samples = parseProm([
    '# TYPE events_total counter', 'events_total 12',
    'luma_http_requests_total{code="200",method="GET",route="/v1/state/{key}"} 3',
    'luma_http_requests_total{code="404",method="GET",route="unmatched"} 2',
    'label_escape{v="a\\"b"} 1', 'luma_x_bucket{le="+Inf"} +Inf',
  ].join('\n'));
  assert.equal(total(samples, 'events_total'), 12);
  assert.equal(total(samples, 'luma_http_requests_total'), 5);
  assert.equal(total(samples, 'luma_http_requests_total', l => l.code === '200'), 3);
  assert.equal(samples.find(s => s.name === 'label_escape').labels.v, 'a"b');
  assert.equal(total(samples, 'luma_x_bucket'), Infinity);
  console.log('ok   unit: SSE parser and Prometheus text parser');
}

// --- main -----------------------------------------------------------------

const started = Date.now();
await unitTests();
mkdirSync(shots, { recursive: true });
if (docsScreenshots) mkdirSync(docsImg, { recursive: true });
const bin = lumaBinary();
// The keyed server keeps only 20 events, so a replay from 0 meets a gap.
for (const [name, env, args, tests] of [
  ['local', {}, [], localTests],
  ['keyed', { LUMA_API_KEY: ADMIN_KEY }, ['--retain-events', '20'], keyedTests],
]) {
  console.log(`-- ${name} mode`);
  const srv = await startServer(bin, name, env, args);
  const context = await launch(name);
  try {
    await tests(context, srv);
  } finally {
    await context.close();
    await srv.stop();
  }
}
const failed = results.filter(r => !r.ok);
console.log(`${results.length - failed.length}/${results.length} browser tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${shots}`);
process.exit(failed.length || results.length === 0 ? 1 : 0);
