// Documents: find in a collection (filter JSON, sort, limit, pages by
// next_cursor), view, edit (compare-and-set on the loaded revision) and
// delete documents. Collections come from /v1/info's counts.

import { api, enc } from './api.js';
import { h, clear, table, errorBox, notice, preview, jsonText, parseJSON, confirmButton } from './ui.js';

export function mount(root) {
  const collection = h('input', { list: 'doc-collections', placeholder: 'collection', size: 18, 'data-testid': 'doc-collection' });
  const known = h('datalist', { id: 'doc-collections' });
  const filter = h('textarea', { rows: 3, spellcheck: 'false', placeholder: '{"status": "open", "age": {"$gte": 18}}', 'data-testid': 'doc-filter' });
  const sortField = h('input', { placeholder: 'field', size: 12, 'data-testid': 'doc-sort' });
  const order = h('select', {}, h('option', { value: 'asc' }, 'asc'), h('option', { value: 'desc' }, 'desc'));
  const limit = h('input', { type: 'number', min: 1, value: 20, size: 5 });
  const results = h('div', { 'data-testid': 'doc-results' });
  const pager = h('div', { class: 'row' });
  const editor = h('div', { class: 'panel', 'data-testid': 'doc-editor' }, h('p', { class: 'muted' }, 'Select a document, or create one.'));
  let cursors = [null], page = 0;

  api('GET', '/v1/info').then(info => {
    clear(known, info.counts.doc_collections.map(d => h('option', { value: d.name }, `${d.documents} documents`)));
    if (!collection.value && info.counts.doc_collections.length) collection.value = info.counts.doc_collections[0].name;
  }).catch(() => { /* the list is a convenience; find reports errors */ });

  async function find() {
    clear(results);
    clear(pager);
    if (!collection.value) { clear(results, notice('warn', 'Enter a collection.')); return; }
    let body;
    try {
      body = { filter: parseJSON(filter.value, 'The filter', {}), limit: Number(limit.value) || 20 };
    } catch (e) { clear(results, errorBox(e)); return; }
    if (sortField.value) body.sort = { field: sortField.value, order: order.value };
    if (cursors[page]) body.cursor = cursors[page];
    try {
      const r = await api('POST', `/v1/doc/${enc(collection.value)}/find`, body);
      cursors[page + 1] = r.next_cursor;
      clear(results,
        h('p', { class: 'hint' }, `${r.documents.length} documents · ${r.index_used ? `index on ${r.index_used}` : 'full scan'} · ${r.scanned} scanned`),
        r.documents.length ? h('div', { class: 'scroll' }, table([
          { label: 'Id', get: d => h('span', { class: 'mono' }, d.id) },
          { label: 'Rev', class: 'num', get: d => d.revision },
          { label: 'Document', get: d => h('div', { class: 'preview' }, preview(d.doc, 200)) },
        ], r.documents, { onclick: d => open(d.id), testid: 'doc-list' })) : h('p', { class: 'muted' }, 'No documents match.'));
      clear(pager,
        h('button', { disabled: page === 0, onclick: () => { page = 0; find(); } }, '⟲ First page'),
        h('span', { class: 'muted' }, `page ${page + 1}`),
        h('button', { disabled: !r.next_cursor, onclick: () => { page++; find(); }, 'data-testid': 'doc-next' }, 'Next →'));
    } catch (e) {
      clear(results, errorBox(e));
    }
  }

  function search() { cursors = [null]; page = 0; find(); }

  async function open(id) {
    const c = collection.value;
    try {
      const d = await api('GET', `/v1/doc/${enc(c)}/${enc(id)}`);
      show(c, d);
    } catch (e) {
      clear(editor, h('h2', {}, id), errorBox(e));
    }
  }

  function show(c, d, message) {
    const text = h('textarea', { rows: 14, spellcheck: 'false', 'data-testid': 'doc-json' });
    text.value = jsonText(d.doc);
    const status = h('div', {}, message || '');
    clear(editor,
      h('div', { class: 'row' }, h('h2', { class: 'mono' }, `${c} / ${d.id}`), h('span', { class: 'spacer' }),
        h('span', { class: 'badge' }, 'revision ' + d.revision)),
      status, text,
      h('div', { class: 'row' }, h('span', { class: 'spacer' }),
        h('button', { onclick: () => open(d.id) }, 'Reload'),
        confirmButton('Delete', 'Confirm delete', async () => {
          try {
            const r = await api('DELETE', `/v1/doc/${enc(c)}/${enc(d.id)}?if_revision=${d.revision}`);
            clear(editor, notice(r.deleted ? 'ok' : 'warn', r.deleted ? `Deleted ${d.id}.` : 'It was already gone.'));
            find();
          } catch (e) { clear(status, casError(e, d)); }
        }),
        h('button', { class: 'primary', 'data-testid': 'doc-save', onclick: async () => {
          try {
            const doc = parseJSON(text.value, 'The document');
            const r = await api('PUT', `/v1/doc/${enc(c)}/${enc(d.id)}?if_revision=${d.revision}`, doc);
            show(c, r, notice('ok', `Saved: revision ${r.revision}.`));
            find();
          } catch (e) { clear(status, casError(e, d)); }
        } }, 'Save')));
  }

  function casError(e, d) {
    if (e.status === 409 && e.code === 'revision_mismatch') {
      return h('div', { class: 'notice error', role: 'alert', 'data-testid': 'cas-conflict' },
        h('strong', {}, 'Conflict: '), `the document changed since revision ${d.revision}. Nothing was written. `,
        h('button', { class: 'link', onclick: () => open(d.id) }, 'Load the current version'));
    }
    return errorBox(e);
  }

  function create() {
    const id = h('input', { placeholder: 'id', size: 20, 'data-testid': 'doc-new-id' });
    const text = h('textarea', { rows: 8, spellcheck: 'false', 'data-testid': 'doc-new-json' });
    text.value = '{}';
    const status = h('div');
    clear(editor, h('h2', {}, 'New document'), status,
      h('div', { class: 'row' }, h('label', {}, 'Collection', h('span', { class: 'mono' }, collection.value || '(enter one above)')), h('label', {}, 'Id', id)),
      text,
      h('div', { class: 'row' }, h('span', { class: 'spacer' }), h('button', { class: 'primary', 'data-testid': 'doc-create', onclick: async () => {
        try {
          if (!collection.value || !id.value) throw Object.assign(new Error('a collection and an id are required'), { code: 'invalid_argument' });
          const r = await api('PUT', `/v1/doc/${enc(collection.value)}/${enc(id.value)}`, parseJSON(text.value, 'The document'));
          show(collection.value, r, notice('ok', 'Created.'));
          search();
        } catch (e) { clear(status, errorBox(e)); }
      } }, 'Create')));
  }

  for (const el of [collection, sortField]) el.addEventListener('keydown', e => { if (e.key === 'Enter') search(); });
  root.append(
    h('h1', {}, 'Documents'),
    h('div', { class: 'grid cols-2' },
      h('div', { class: 'panel' },
        h('div', { class: 'row' }, h('label', {}, 'Collection', collection), known,
          h('label', {}, 'Sort by', sortField), h('label', {}, 'Order', order), h('label', {}, 'Limit', limit),
          h('span', { class: 'spacer' }),
          h('button', { onclick: create }, 'New document')),
        h('label', { class: 'hint' }, 'Filter (JSON; empty = all; operators in docs/FILTERS.md)'), filter,
        h('div', { class: 'row' }, h('button', { class: 'primary', onclick: search, 'data-testid': 'doc-find' }, 'Find')),
        results, pager),
      editor));
  return () => {};
}
