// Small DOM helpers shared by the pages.

// h builds an element: h('button', {class: 'primary', onclick: f}, 'Save').
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function jsonText(v, indent = 2) {
  return JSON.stringify(v, null, indent);
}

export function preview(v, max = 160) {
  const s = JSON.stringify(v);
  return s === undefined ? '' : s.length > max ? s.slice(0, max) + '…' : s;
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + u[i];
}

export function fmtDuration(secs) {
  secs = Math.floor(secs);
  const d = Math.floor(secs / 86400), hh = Math.floor(secs / 3600) % 24, m = Math.floor(secs / 60) % 60, s = secs % 60;
  if (d) return `${d}d ${hh}h ${m}m`;
  if (hh) return `${hh}h ${m}m ${s}s`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

// fmtTime shows a Unix ms timestamp as local "YYYY-MM-DD hh:mm:ss".
export function fmtTime(ms) {
  if (!ms) return '–';
  const d = new Date(ms);
  const p = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtNum(n) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US');
}

// errorBox shows an API error in place: code and message.
export function errorBox(err, ...extra) {
  const code = err && err.code ? err.code : err && err.status ? `HTTP ${err.status}` : 'error';
  return h('div', { class: 'notice error', role: 'alert', 'data-testid': 'error' },
    h('span', { class: 'code' }, code), ' ', err && err.message ? err.message : String(err), ...extra);
}

export function notice(kind, ...children) {
  return h('div', { class: 'notice ' + kind, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

// parseJSON parses a text field, naming it in the error.
export function parseJSON(text, what, fallback) {
  if (text.trim() === '' && fallback !== undefined) return fallback;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw Object.assign(new Error(`${what} is not valid JSON: ${e.message}`), { code: 'invalid_json' });
  }
}

// table renders rows; columns are {label, get(row) → text|Node, class}.
export function table(columns, rows, { onclick, testid, selected } = {}) {
  return h('table', { class: 'data', 'data-testid': testid },
    h('thead', {}, h('tr', {}, columns.map(c => h('th', { class: c.class }, c.label)))),
    h('tbody', {}, rows.map(r => h('tr', {
      class: [onclick ? 'clickable' : '', selected && selected(r) ? 'selected' : ''].join(' ').trim() || undefined,
      onclick: onclick ? () => onclick(r) : undefined,
    }, columns.map(c => h('td', { class: c.class }, c.get(r)))))));
}

// confirmButton asks for a second click instead of a modal dialog.
export function confirmButton(label, confirmLabel, action, attrs = {}) {
  let armed = false, timer;
  const b = h('button', { class: 'danger', ...attrs, onclick: async () => {
    if (!armed) {
      armed = true;
      b.textContent = confirmLabel;
      b.classList.add('confirm');
      timer = setTimeout(() => { armed = false; b.textContent = label; b.classList.remove('confirm'); }, 4000);
      return;
    }
    clearTimeout(timer);
    armed = false;
    b.textContent = label;
    b.classList.remove('confirm');
    b.disabled = true;
    try { await action(); } finally { b.disabled = false; }
  } }, label);
  return b;
}

export function card(label, value, { small = false, testid } = {}) {
  return h('div', { class: 'card' }, h('div', { class: 'label' }, label),
    h('div', { class: 'value' + (small ? ' small' : ''), title: String(value), 'data-testid': testid }, value));
}
