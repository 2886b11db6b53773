// API keys (admin keys only): list, create (the plaintext is shown once)
// and revoke. In local mode, or with SQLite off, the server answers 501.

import { api, enc, session } from './api.js';
import { h, clear, table, errorBox, notice, fmtTime, confirmButton, preview } from './ui.js';

export function mount(root) {
  const body = h('div');
  root.append(h('h1', {}, 'API keys'), body);

  if (session.auth === false) {
    body.append(h('div', { class: 'panel' }, notice('warn',
      'Local mode: no API key is configured, so the server accepts every request and key management is off. ',
      'Start the server with LUMA_API_KEY (or --api-key) to require keys and manage more of them here.')));
    return () => {};
  }

  const list = h('div');
  const created = h('div');
  const name = h('input', { placeholder: 'name, e.g. dashboard', size: 24, 'data-testid': 'key-name' });
  const role = h('select', { 'data-testid': 'key-role' }, ['reader', 'user', 'admin'].map(r => h('option', { value: r, selected: r === 'user' }, r)));

  async function load() {
    try {
      const keys = await api('GET', '/v1/auth/keys');
      clear(list, keys.length === 0 ? h('p', { class: 'muted' }, 'No managed keys.') : table([
        { label: 'Name', get: k => k.name },
        { label: 'Role', get: k => h('span', { class: 'badge' + (k.role === 'admin' ? ' warn' : '') }, k.role) },
        { label: 'Id', get: k => h('span', { class: 'mono' }, k.id) },
        { label: 'Created', get: k => fmtTime(k.created_at_ms) },
        { label: 'Permissions', get: k => h('span', { class: 'preview' }, preview(k.permissions, 60)) },
        { label: '', get: k => confirmButton('Revoke', 'Confirm revoke', async () => {
          try {
            await api('DELETE', '/v1/auth/keys/' + enc(k.id));
            clear(created, notice('ok', `Revoked ${k.name}.`));
            load();
          } catch (e) { clear(created, errorBox(e)); }
        }, { 'data-testid': 'key-revoke', dataset: { name: k.name } }) },
      ], keys, { testid: 'key-list' }));
    } catch (e) {
      if (e.status === 403) {
        clear(list, notice('warn', 'The key in use is not an admin key: only admins list, create and revoke keys.'));
      } else if (e.status === 501) {
        clear(list, notice('warn', 'Key management is not enabled on this server (', e.message, ').'));
      } else {
        clear(list, errorBox(e));
      }
      return false;
    }
    return true;
  }

  async function create() {
    try {
      const r = await api('POST', '/v1/auth/keys', { name: name.value, role: role.value });
      name.value = '';
      clear(created, h('div', { class: 'notice ok', 'data-testid': 'key-created' },
        h('p', {}, `Created key "${r.name ?? ''}" (${r.role ?? role.value}). Copy it now: it is shown only once.`),
        h('div', { class: 'secret', 'data-testid': 'key-secret' }, r.key),
        h('div', { class: 'actions' }, h('button', { onclick: () => navigator.clipboard.writeText(r.key) }, 'Copy'))));
      load();
    } catch (e) {
      clear(created, errorBox(e));
    }
  }

  body.append(
    h('div', { class: 'panel' },
      h('div', { class: 'row' }, h('label', {}, 'Name', name), h('label', {}, 'Role', role),
        h('button', { class: 'primary', onclick: create, 'data-testid': 'key-create' }, 'Create key')),
      h('p', { class: 'hint' }, 'admin: everything incl. keys; user: read and write data; reader: read-only routes.'),
      created),
    h('div', { class: 'panel' }, list));
  load();
  return () => {};
}
