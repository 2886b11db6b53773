// SQL console: /v1/sql/query (SELECT, results as a table in column order)
// and /v1/sql/exec (anything else); errors are shown in place. The table
// list on the side runs a SELECT on sqlite_master.

import { api } from './api.js';
import { h, clear, errorBox, notice, parseJSON } from './ui.js';

export function mount(root) {
  const sql = h('textarea', { rows: 6, spellcheck: 'false', 'data-testid': 'sql-text',
    placeholder: 'SELECT name FROM sqlite_master WHERE type = \'table\'' });
  const params = h('input', { placeholder: '[1, "a"] or {"name": "a"} (optional)', size: 36, 'data-testid': 'sql-params' });
  const out = h('div', { 'data-testid': 'sql-result' });
  const tables = h('div', { class: 'sql-tables' });

  async function run(kind) {
    clear(out, h('p', { class: 'muted' }, 'Running…'));
    const text = sql.value.trim();
    if (!kind) kind = /^select\b/i.test(text) ? 'query' : 'exec';
    let body;
    try {
      body = { sql: text };
      const p = parseJSON(params.value, 'The parameters', null);
      if (p !== null) body.params = p;
    } catch (e) { clear(out, errorBox(e)); return; }
    if (kind === 'query') body.columns = true;
    const started = performance.now();
    try {
      const r = await api('POST', '/v1/sql/' + kind, body);
      const ms = (performance.now() - started).toFixed(0);
      if (kind === 'query') {
        const cols = r.columns || (r.rows[0] ? Object.keys(r.rows[0]) : []);
        clear(out, h('p', { class: 'hint' }, `${r.rows.length} rows · ${ms} ms`),
          h('div', { class: 'scroll' }, h('table', { class: 'data', 'data-testid': 'sql-rows' },
            h('thead', {}, h('tr', {}, cols.map(c => h('th', {}, c)))),
            h('tbody', {}, r.rows.map(row => h('tr', {}, cols.map(c => h('td', { class: typeof row[c] === 'number' ? 'num' : '' },
              row[c] === null ? h('span', { class: 'muted' }, 'NULL') : String(row[c])))))))));
      } else {
        clear(out, notice('ok', `${r.rows_affected} rows affected`, r.last_insert_id ? ` · last insert id ${r.last_insert_id}` : '', ` · ${ms} ms`));
        loadTables();
      }
    } catch (e) {
      clear(out, errorBox(e));
    }
  }

  async function loadTables() {
    try {
      const r = await api('POST', '/v1/sql/query', { sql: "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name" });
      clear(tables, r.rows.length ? r.rows.map(t => h('button', { onclick: () => {
        sql.value = `SELECT * FROM "${t.name.replace(/"/g, '""')}" LIMIT 100`;
        run('query');
      } }, t.name)) : h('p', { class: 'muted' }, 'No tables.'));
    } catch (e) {
      clear(tables, errorBox(e));
    }
  }

  sql.addEventListener('keydown', e => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); } });
  root.append(
    h('h1', {}, 'SQL'),
    h('div', { class: 'grid cols-side' },
      h('div', { class: 'panel' }, h('h2', {}, 'Tables'), tables),
      h('div', { class: 'panel' },
        sql,
        h('div', { class: 'row' },
          h('label', {}, 'Parameters (JSON)', params),
          h('span', { class: 'spacer' }),
          h('span', { class: 'hint' }, 'Ctrl+Enter runs'),
          h('button', { class: 'primary', onclick: () => run('query'), 'data-testid': 'sql-query' }, 'Query'),
          h('button', { onclick: () => run('exec'), 'data-testid': 'sql-exec' }, 'Execute')),
        h('p', { class: 'hint' }, 'Query runs one SELECT on a read-only connection; Execute runs any other statement (and records an sql_exec event).'),
        out)));
  loadTables();
  return () => {};
}
