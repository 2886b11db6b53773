// State browser: list keys by prefix (pages follow X-Next-Cursor), view,
// edit and delete a key. Saves and deletes are compare-and-set on the
// revision that was loaded, so a concurrent change is a 409 shown in place.

import { api, enc } from './api.js';
import { h, clear, table, errorBox, notice, preview, jsonText, parseJSON, fmtTime, confirmButton } from './ui.js';

export function mount(root) {
  const prefix = h('input', { placeholder: 'prefix, e.g. session:', 'data-testid': 'state-prefix', size: 28 });
  const limit = h('select', {}, [25, 50, 100, 500].map(n => h('option', { value: n, selected: n === 50 }, n)));
  const list = h('div');
  const pager = h('div', { class: 'row' });
  const editor = h('div', { class: 'panel', 'data-testid': 'state-editor' },
    h('p', { class: 'muted' }, 'Select a key, or create one.'));
  let cursors = [''], page = 0, selected = null;

  async function load() {
    const q = new URLSearchParams({ prefix: prefix.value, limit: limit.value });
    if (cursors[page]) q.set('cursor', cursors[page]);
    try {
      const { data, headers } = await api('GET', '/v1/state?' + q, undefined, { full: true });
      const next = headers.get('X-Next-Cursor');
      cursors[page + 1] = next || undefined;
      clear(list, data.length === 0 ? h('p', { class: 'muted' }, 'No keys.') : h('div', { class: 'scroll' }, table([
        { label: 'Key', get: r => h('span', { class: 'mono' }, r.key) },
        { label: 'Rev', class: 'num', get: r => r.revision },
        { label: 'Expires', get: r => r.expires_at_ms ? fmtTime(r.expires_at_ms) : '' },
        { label: 'Value', get: r => h('div', { class: 'preview' }, preview(r.value)) },
      ], data, { onclick: r => open(r.key), testid: 'state-list', selected: r => r.key === selected })));
      clear(pager,
        h('button', { disabled: page === 0, onclick: () => { page = 0; load(); } }, '⟲ First page'),
        h('button', { disabled: page === 0, onclick: () => { page--; load(); } }, '← Previous'),
        h('span', { class: 'muted' }, `page ${page + 1}`),
        h('button', { disabled: !next, 'data-testid': 'state-next', onclick: () => { page++; load(); } }, 'Next →'));
    } catch (e) {
      clear(list, errorBox(e));
      clear(pager);
    }
  }

  function search() { cursors = ['']; page = 0; load(); }

  async function open(key) {
    selected = key;
    for (const tr of list.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    let item;
    try {
      item = await api('GET', '/v1/state/' + enc(key));
    } catch (e) {
      clear(editor, h('h2', {}, key), errorBox(e));
      return;
    }
    showItem(item);
    load();
  }

  function showItem(item, message) {
    const value = h('textarea', { rows: 12, spellcheck: 'false', 'data-testid': 'state-value' });
    value.value = jsonText(item.value);
    const remaining = item.expires_at_ms ? Math.max(0, item.expires_at_ms - Date.now()) : '';
    const ttl = h('input', { type: 'number', min: 0, placeholder: 'none', value: remaining, 'data-testid': 'state-ttl', size: 12 });
    const status = h('div', { 'data-testid': 'state-status' }, message || '');
    const save = async () => {
      let body;
      try {
        body = { value: parseJSON(value.value, 'The value'), if_revision: item.revision };
      } catch (e) { clear(status, errorBox(e)); return; }
      if (ttl.value !== '') body.ttl_ms = Number(ttl.value);
      try {
        const r = await api('PUT', '/v1/state/' + enc(item.key), body);
        showItem({ ...item, value: body.value, revision: r.revision, expires_at_ms: r.expires_at_ms },
          notice('ok', `Saved: revision ${r.revision}.`));
        load();
      } catch (e) { clear(status, conflictOr(e, item)); }
    };
    const del = async () => {
      try {
        const r = await api('DELETE', `/v1/state/${enc(item.key)}?if_revision=${item.revision}`);
        clear(editor, h('h2', {}, item.key), notice(r.deleted ? 'ok' : 'warn', r.deleted ? 'Deleted.' : 'The key was already gone.'));
        selected = null;
        load();
      } catch (e) { clear(status, conflictOr(e, item)); }
    };
    clear(editor,
      h('div', { class: 'row' },
        h('h2', { class: 'mono' }, item.key),
        h('span', { class: 'spacer' }),
        h('span', { class: 'badge', 'data-testid': 'state-revision' }, 'revision ' + item.revision),
        item.expires_at_ms
          ? h('span', { class: 'badge warn', title: fmtTime(item.expires_at_ms) }, `TTL: expires in ${Math.round(remaining / 1000)} s`)
          : h('span', { class: 'badge' }, 'no TTL')),
      status,
      h('label', { class: 'hint' }, 'Value (JSON)'),
      value,
      h('div', { class: 'row' },
        h('label', {}, 'TTL (ms, empty clears it)', ttl),
        h('span', { class: 'spacer' }),
        h('button', { onclick: () => open(item.key) }, 'Reload'),
        confirmButton('Delete', 'Confirm delete', del, { 'data-testid': 'state-delete' }),
        h('button', { class: 'primary', onclick: save, 'data-testid': 'state-save' }, 'Save')),
      h('p', { class: 'hint' }, `Save and delete send if_revision=${item.revision}: if the key changed meanwhile, nothing is written.`));
  }

  // conflictOr explains a CAS failure and offers a way forward.
  function conflictOr(e, item) {
    if (e.status !== 409 || e.code !== 'revision_mismatch') return errorBox(e);
    const now = h('span', { 'data-testid': 'cas-now' });
    api('GET', '/v1/state/' + enc(item.key)).then(
      cur => { now.textContent = ` The server now has revision ${cur.revision}.`; },
      err => { now.textContent = err.status === 404 ? ' The key has been deleted since.' : ''; });
    return h('div', { class: 'notice error', role: 'alert', 'data-testid': 'cas-conflict' },
      h('strong', {}, 'Conflict: '), `the key changed since you loaded revision ${item.revision} (409 revision_mismatch). Nothing was written.`, now,
      h('div', { class: 'actions' },
        h('button', { onclick: () => open(item.key), 'data-testid': 'cas-reload' }, 'Load the current value')));
  }

  function newKey() {
    const key = h('input', { placeholder: 'key', size: 30, 'data-testid': 'new-key' });
    const value = h('textarea', { rows: 6, spellcheck: 'false', 'data-testid': 'new-value' });
    value.value = '{}';
    const ttl = h('input', { type: 'number', min: 0, placeholder: 'none', size: 12 });
    const status = h('div');
    clear(editor, h('h2', {}, 'New key'), status,
      h('div', { class: 'row' }, h('label', {}, 'Key', key), h('label', {}, 'TTL (ms)', ttl)),
      h('label', { class: 'hint' }, 'Value (JSON)'), value,
      h('div', { class: 'row' }, h('span', { class: 'spacer' }),
        h('button', { class: 'primary', 'data-testid': 'new-create', onclick: async () => {
          try {
            const body = { value: parseJSON(value.value, 'The value') };
            if (ttl.value !== '') body.ttl_ms = Number(ttl.value);
            if (!key.value) throw Object.assign(new Error('a key is required'), { code: 'invalid_argument' });
            await api('PUT', '/v1/state/' + enc(key.value), body);
            open(key.value);
          } catch (e) { clear(status, errorBox(e)); }
        } }, 'Create')));
    key.focus();
  }

  prefix.addEventListener('keydown', e => { if (e.key === 'Enter') search(); });
  limit.addEventListener('change', search);
  root.append(
    h('h1', {}, 'State'),
    h('div', { class: 'grid cols-2' },
      h('div', { class: 'panel' },
        h('div', { class: 'row' },
          h('label', {}, 'Prefix', prefix), h('label', {}, 'Page size', limit),
          h('button', { class: 'primary', onclick: search, 'data-testid': 'state-list-button' }, 'List'),
          h('span', { class: 'spacer' }),
          h('button', { onclick: newKey, 'data-testid': 'state-new' }, 'New key')),
        h('p', { class: 'hint' }, 'Keys in byte order. Documents (doc:{collection}:{id}) and vector manifests (vector:{collection}:manifest) are state keys too.'),
        list, pager),
      editor));
  search();
  return () => {};
}
