// Vectors: list, create and drop collections; inspect one (everything
// GET /v1/vector/{c} answers, segments included); vacuum; and a search
// playground (by a stored point's vector or a pasted one, filters,
// group_by).

import { api, enc } from './api.js';
import { h, clear, table, errorBox, notice, preview, jsonText, parseJSON, fmtNum, fmtTime, confirmButton } from './ui.js';

export function mount(root) {
  const list = h('div');
  const detail = h('div', { 'data-testid': 'vec-detail' }, h('div', { class: 'panel' }, h('p', { class: 'muted' }, 'Select a collection.')));
  const createStatus = h('div');
  const name = h('input', { placeholder: 'name', size: 16, 'data-testid': 'vec-name' });
  const dim = h('input', { type: 'number', min: 1, value: 384, size: 6, 'data-testid': 'vec-dim' });
  const metric = h('select', { 'data-testid': 'vec-metric' }, ['cosine', 'dot', 'l2'].map(m => h('option', { value: m }, m)));
  const kind = h('select', {}, h('option', { value: '' }, 'default'), h('option', { value: 'hnsw' }, 'hnsw'), h('option', { value: 'flat' }, 'flat'));
  let current = null;

  async function loadList() {
    try {
      const { collections } = await api('GET', '/v1/vector');
      clear(list, collections.length === 0 ? h('p', { class: 'muted' }, 'No collections yet.') : h('div', { class: 'scroll' }, table([
        { label: 'Collection', get: c => h('span', { class: 'mono' }, c.collection) },
        { label: 'Dim', class: 'num', get: c => c.dim },
        { label: 'Metric', get: c => c.metric },
        { label: 'Live', class: 'num', get: c => fmtNum(c.live_count) },
        { label: 'Deleted', class: 'num', get: c => fmtNum(c.deleted_count) },
        { label: 'Segments', class: 'num', get: c => fmtNum(c.segments) },
      ], collections, { onclick: c => inspect(c.collection), testid: 'vec-list', selected: c => c.collection === current })));
    } catch (e) {
      clear(list, errorBox(e));
    }
  }

  async function create() {
    const body = { dim: Number(dim.value), metric: metric.value };
    if (kind.value) body.index = kind.value;
    try {
      await api('POST', '/v1/vector/' + enc(name.value), body);
      clear(createStatus, notice('ok', `Created ${name.value}.`));
      const n = name.value;
      name.value = '';
      await loadList();
      inspect(n);
    } catch (e) {
      clear(createStatus, errorBox(e));
    }
  }

  async function inspect(c, message) {
    current = c;
    loadList();
    let d;
    try {
      d = await api('GET', '/v1/vector/' + enc(c));
    } catch (e) {
      clear(detail, h('div', { class: 'panel' }, h('h2', {}, c), errorBox(e)));
      return;
    }
    const status = h('div', {}, message || '');
    const known = ['collection', 'manifest', 'segment_list', 'index_settings'];
    const kv = h('dl', { class: 'kv kv-2', 'data-testid': 'vec-info' });
    for (const [k, v] of Object.entries(d)) {
      if (known.includes(k)) continue;
      kv.append(h('dt', {}, k), h('dd', { title: /_ms$/.test(k) && v ? String(v) : undefined }, /_ms$/.test(k) && v ? fmtTime(v) : v === null ? 'null' : typeof v === 'object' ? preview(v, 400) : String(v)));
    }
    if (d.index_settings) kv.append(h('dt', {}, 'index_settings'), h('dd', {}, preview(d.index_settings, 400)));
    const segs = Array.isArray(d.segment_list) && d.segment_list.length ? table(
      Object.keys(d.segment_list[0]).map(k => ({ label: k, class: typeof d.segment_list[0][k] === 'number' ? 'num' : '', get: s => String(s[k]) })),
      d.segment_list, { testid: 'vec-segments' }) : h('p', { class: 'muted' }, 'No segment list.');
    clear(detail,
      h('div', { class: 'panel' },
        h('div', { class: 'row' },
          h('h2', { class: 'mono' }, c),
          h('span', { class: 'spacer' }),
          h('button', { onclick: () => inspect(c) }, 'Refresh'),
          h('button', { 'data-testid': 'vec-vacuum', onclick: async ev => {
            ev.target.disabled = true;
            try {
              const r = await api('POST', `/v1/vector/${enc(c)}/vacuum`);
              await inspect(c, notice('ok', `Vacuumed: segments ${r.segments_before} → ${r.segments_after}, ` +
                `${r.rebuilt} rebuilt, ${r.tombstones_removed} tombstones removed, ${r.live_count} live, ${r.duration_ms} ms.`));
            } catch (e) { clear(status, errorBox(e)); ev.target.disabled = false; }
          } }, 'Vacuum'),
          confirmButton('Drop', 'Confirm drop', async () => {
            try {
              await api('DELETE', '/v1/vector/' + enc(c));
              current = null;
              clear(detail, h('div', { class: 'panel' }, notice('ok', `Dropped ${c}.`)));
              loadList();
            } catch (e) { clear(status, errorBox(e)); }
          }, { 'data-testid': 'vec-drop' })),
        status, kv,
        h('h3', {}, 'Segments'), segs,
        d.manifest ? h('details', {}, h('summary', {}, 'Manifest (state key ', h('code', {}, `vector:${c}:manifest`), ')'),
          h('pre', { class: 'json' }, jsonText(d.manifest))) : null),
      searchPanel(c, d));
  }

  function searchPanel(c, d) {
    const by = h('select', { 'data-testid': 'search-by' }, h('option', { value: 'id' }, 'a stored point (id)'), h('option', { value: 'vector' }, 'a vector (JSON array)'));
    const id = h('input', { placeholder: 'point id', size: 18, 'data-testid': 'search-id' });
    const vec = h('textarea', { rows: 3, class: 'small', placeholder: `[${Array.from({ length: Math.min(d.dim || 3, 4) }, () => '0.1').join(', ')}${(d.dim || 3) > 4 ? ', …' : ''}]`, hidden: true, 'data-testid': 'search-vector' });
    const k = h('input', { type: 'number', min: 1, value: 10, size: 5, 'data-testid': 'search-k' });
    const filters = h('textarea', { rows: 2, class: 'small', placeholder: '{"lang": "es", "year": {"$gte": 2020}}', 'data-testid': 'search-filters' });
    const groupBy = h('input', { placeholder: 'meta field', size: 12, 'data-testid': 'search-group-by' });
    const groupLimit = h('input', { type: 'number', min: 1, placeholder: '1', size: 4 });
    const meta = h('input', { type: 'checkbox', checked: true });
    const out = h('div', { 'data-testid': 'search-results' });
    by.addEventListener('change', () => { id.hidden = by.value !== 'id'; vec.hidden = by.value !== 'vector'; });
    const run = async () => {
      clear(out);
      try {
        let vector;
        if (by.value === 'id') {
          if (!id.value) throw Object.assign(new Error('enter the id of a stored point'), { code: 'invalid_argument' });
          vector = (await api('GET', `/v1/vector/${enc(c)}/get?id=${enc(id.value)}`)).vector;
        } else {
          vector = parseJSON(vec.value, 'The vector');
        }
        const body = { vector, k: Number(k.value), include_meta: meta.checked };
        const f = parseJSON(filters.value, 'The filters', null);
        if (f !== null) body.filters = f;
        if (groupBy.value) body.group_by = groupBy.value;
        if (groupLimit.value) body.group_limit = Number(groupLimit.value);
        const r = await api('POST', `/v1/vector/${enc(c)}/search`, body);
        const hitTable = hits => table([
          { label: 'Id', get: x => h('span', { class: 'mono' }, x.id) },
          { label: 'Score', class: 'num', get: x => x.score.toFixed(6) },
          { label: 'Meta', get: x => h('div', { class: 'preview' }, preview(x.meta, 200)) },
        ], hits, { testid: 'search-hits' });
        if (r.groups) {
          clear(out, h('p', { class: 'muted' }, `${r.groups.length} groups`), r.groups.map(g =>
            h('div', { 'data-testid': 'search-group' },
              h('h3', {}, 'Group ', h('code', {}, JSON.stringify(g.group)), h('span', { class: 'muted' }, ` — ${g.count} matching`)),
              hitTable(g.hits))));
        } else {
          clear(out, h('p', { class: 'muted' }, `${r.hits.length} hits`), hitTable(r.hits));
        }
      } catch (e) {
        clear(out, errorBox(e));
      }
    };
    return h('div', { class: 'panel' },
      h('h2', {}, 'Search playground'),
      h('div', { class: 'row' },
        h('label', {}, 'Query by', by), id,
        h('label', {}, 'k', k), h('label', {}, 'Group by', groupBy), h('label', {}, 'Per group', groupLimit),
        h('label', { class: 'check' }, meta, 'include meta'),
        h('button', { class: 'primary', onclick: run, 'data-testid': 'search-run' }, 'Search')),
      vec,
      h('label', { class: 'hint' }, 'Filters (JSON, optional; docs/FILTERS.md)'), filters,
      out);
  }

  root.append(
    h('h1', {}, 'Vectors'),
    h('div', { class: 'grid cols-side' },
      h('div', {},
        h('div', { class: 'panel' }, h('h2', {}, 'Collections'), list),
        h('div', { class: 'panel' },
          h('h2', {}, 'New collection'),
          h('div', { class: 'row' }, h('label', {}, 'Name', name), h('label', {}, 'Dim', dim)),
          h('div', { class: 'row' }, h('label', {}, 'Metric', metric), h('label', {}, 'Index', kind),
            h('button', { class: 'primary', onclick: create, 'data-testid': 'vec-create' }, 'Create')),
          createStatus)),
      detail));
  loadList();
  return () => {};
}
