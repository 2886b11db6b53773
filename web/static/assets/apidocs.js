// The API reference: renders the OpenAPI document the server put in the
// page (script#spec, JSON, servers set to this host) — tags, routes,
// parameters, request and response schemas, examples. Text is inserted with
// textContent only; descriptions get a tiny Markdown subset (paragraphs,
// "- " lists, `code`, **bold**).

const spec = JSON.parse(document.getElementById('spec').textContent);
const methods = ['get', 'put', 'post', 'delete', 'patch'];
const server = (spec.servers && spec.servers[0] && spec.servers[0].url) || location.origin;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// add appends children, skipping null and undefined (DOM append would
// print them).
function add(el, ...children) {
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

function inline(text) {
  const out = [];
  for (const part of String(text).split(/(`[^`]+`|\*\*[^*]+\*\*)/)) {
    if (part.startsWith('`') && part.endsWith('`') && part.length > 1) out.push(h('code', {}, part.slice(1, -1)));
    else if (part.startsWith('**') && part.endsWith('**') && part.length > 3) out.push(h('strong', {}, part.slice(2, -2)));
    else if (part) out.push(part);
  }
  return out;
}

function md(text) {
  if (!text) return null;
  const box = h('div', { class: 'desc' });
  for (const block of String(text).trim().split(/\n\s*\n/)) {
    const lines = block.split('\n');
    if (lines.every(l => /^\s*[-*] /.test(l) || /^\s{2,}\S/.test(l))) {
      const ul = h('ul');
      for (const l of lines) {
        if (/^\s*[-*] /.test(l)) ul.append(h('li', {}, inline(l.replace(/^\s*[-*] /, ''))));
        else if (ul.lastChild) ul.lastChild.append(' ', ...inline(l.trim()));
      }
      box.append(ul);
    } else {
      box.append(h('p', {}, inline(lines.join(' '))));
    }
  }
  return box;
}

function resolve(obj) {
  let seen = 0;
  while (obj && obj.$ref && seen++ < 10) {
    const parts = obj.$ref.replace(/^#\//, '').split('/').map(p => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    obj = parts.reduce((o, p) => (o ? o[p] : undefined), spec);
  }
  return obj;
}

const refName = ref => ref.split('/').pop();

function typeLabel(s) {
  if (!s) return 'any';
  if (s.$ref) return refName(s.$ref);
  let t = s.type || (s.oneOf ? 'one of' : s.anyOf ? 'any of' : s.allOf ? 'all of' : s.properties ? 'object' : 'any');
  if (t === 'array') t = `array of ${typeLabel(s.items)}`;
  const extra = [];
  if (s.format) extra.push(s.format);
  if (s.enum) extra.push(s.enum.map(v => JSON.stringify(v)).join(' | '));
  if (s.nullable) extra.push('nullable');
  if (s.minimum !== undefined) extra.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) extra.push(`≤ ${s.maximum}`);
  if (s.maxLength !== undefined) extra.push(`max ${s.maxLength} chars`);
  if (s.pattern) extra.push(`pattern ${s.pattern}`);
  if (s.default !== undefined) extra.push(`default ${JSON.stringify(s.default)}`);
  return extra.length ? `${t} (${extra.join(', ')})` : t;
}

// schema renders a schema as a tree; $refs open on demand (a top-level one
// starts open when open is set).
function schema(s, depth = 0, seen = new Set(), open = false) {
  if (!s) return h('span', { class: 'type' }, 'any');
  if (s.$ref) {
    const name = refName(s.$ref);
    const link = h('a', { href: '#schema-' + name, class: 'type' }, name);
    if (seen.has(name) || depth > 8) return link;
    const target = resolve(s);
    if (!target || !(target.properties || target.items || target.oneOf || target.allOf || target.anyOf)) {
      return h('span', {}, link, target ? [' ', h('span', { class: 'type' }, typeLabel(target))] : null, target && target.description ? md(target.description) : null);
    }
    const d = h('details', { class: 'ref' }, h('summary', {}, link, target.description ? h('span', { class: 'muted' }, ' — ', inline(firstSentence(target.description))) : null));
    let filled = false;
    d.addEventListener('toggle', () => {
      if (d.open && !filled) { filled = true; d.append(schema(target, depth + 1, new Set([...seen, name]))); }
    });
    d.open = open;
    return d;
  }
  const box = h('div', { class: 'schema' });
  const subs = s.oneOf || s.anyOf || s.allOf;
  if (subs) {
    add(box, h('span', { class: 'type' }, s.oneOf ? 'one of' : s.anyOf ? 'any of' : 'all of'), s.nullable ? h('span', { class: 'muted' }, ' (nullable)') : null,
      h('ul', {}, subs.map(x => h('li', {}, schema(x, depth + 1, seen)))));
    return box;
  }
  if (s.type === 'array') {
    box.append(h('span', { class: 'type' }, typeLabel(s)));
    if (s.items && (s.items.$ref || s.items.properties || s.items.oneOf)) box.append(h('ul', {}, h('li', {}, schema(s.items, depth + 1, seen))));
    return box;
  }
  if (s.properties || s.type === 'object') {
    const req = new Set(s.required || []);
    box.append(h('span', { class: 'type' }, typeLabel(s)));
    const ul = h('ul');
    for (const [name, p] of Object.entries(s.properties || {})) {
      const nested = p.$ref || p.properties || (p.items && (p.items.$ref || p.items.properties)) || p.oneOf || p.allOf || p.anyOf;
      ul.append(h('li', {},
        h('span', { class: 'prop' }, name), ' ',
        nested ? null : h('span', { class: 'type' }, typeLabel(p)),
        req.has(name) ? h('span', { class: 'req' }, ' required') : null,
        p.description ? md(p.description) : null,
        nested ? schema(p, depth + 1, seen) : null));
    }
    if (s.additionalProperties) ul.append(h('li', { class: 'muted' }, 'other properties allowed'));
    box.append(ul);
    return box;
  }
  box.append(h('span', { class: 'type' }, typeLabel(s)));
  return box;
}

function firstSentence(t) {
  const s = String(t).split(/(?<=\.)\s/)[0];
  return s.length > 120 ? s.slice(0, 120) + '…' : s;
}

function curl(method, path, op) {
  const parts = [`curl -s -X ${method.toUpperCase()} '${server}${path}'`];
  const secured = op.security ? op.security.length > 0 : (spec.security || []).length > 0;
  if (secured) parts.push(`-H "Authorization: Bearer $LUMA_API_KEY"`);
  const body = op.requestBody && resolve(op.requestBody);
  const media = body && body.content && body.content['application/json'];
  if (media) {
    let ex = media.example;
    if (ex === undefined && media.examples) ex = resolve(Object.values(media.examples)[0]).value;
    parts.push(`-H 'Content-Type: application/json'`);
    if (ex !== undefined) parts.push(`-d '${JSON.stringify(ex).replace(/'/g, "'\\''")}'`);
  }
  return parts.join(' \\\n     ');
}

function operation(path, item, method, op) {
  const id = `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;
  const params = [...(item.parameters || []), ...(op.parameters || [])].map(resolve);
  const body = op.requestBody && resolve(op.requestBody);
  const content = [];
  content.push(md(op.description));
  if (params.length) {
    content.push(h('h4', {}, 'Parameters'), h('table', {},
      h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'In'), h('th', {}, 'Type'), h('th', {}, 'Description')),
      params.map(p => h('tr', {}, h('td', {}, h('code', {}, p.name), p.required ? h('span', { class: 'req' }, ' required') : null),
        h('td', {}, p.in), h('td', { class: 'type' }, typeLabel(p.schema)), h('td', {}, md(p.description))))));
  }
  if (body) {
    content.push(h('h4', {}, 'Request body', body.required ? h('span', { class: 'req' }, ' required') : null));
    content.push(md(body.description));
    for (const [type, media] of Object.entries(body.content || {})) {
      content.push(h('div', { class: 'muted' }, type), schema(media.schema, 0, new Set(), true));
      const examples = media.example !== undefined ? { example: { value: media.example } } : media.examples || {};
      for (const [name, ex] of Object.entries(examples)) {
        content.push(h('div', { class: 'muted' }, 'Example', name !== 'example' ? ` (${name})` : ''), h('pre', {}, JSON.stringify(resolve(ex).value, null, 2)));
      }
    }
  }
  content.push(h('h4', {}, 'Responses'));
  const rows = [];
  for (const [code, r0] of Object.entries(op.responses || {})) {
    const r = resolve(r0) || {};
    const media = Object.entries(r.content || {});
    rows.push(h('tr', {},
      h('td', {}, h('span', { class: `status s${code[0]}` }, code)),
      h('td', {}, md(r.description),
        Object.keys(r.headers || {}).length ? h('div', { class: 'muted' }, 'Headers: ', Object.keys(r.headers).join(', ')) : null,
        media.map(([type, m]) => [h('div', { class: 'muted' }, type), m.schema ? schema(m.schema, 0, new Set(), code[0] === '2') : null]))));
  }
  content.push(h('table', {}, rows));
  content.push(h('h4', {}, 'Example'), h('pre', {}, curl(method, path, op)));
  const det = h('details', { class: 'op' + (op.deprecated ? ' deprecated' : ''), id, 'data-path': path, 'data-method': method },
    h('summary', {}, h('span', { class: 'm ' + method }, method.toUpperCase()), h('span', { class: 'path' }, path),
      h('span', { class: 'summary' }, op.summary || '')),
    h('div', { class: 'body' }, content));
  return det;
}

function render() {
  const doc = document.getElementById('doc');
  const toc = document.getElementById('toc');
  const info = spec.info || {};
  add(doc, h('h1', {}, info.title || 'API'), h('div', { class: 'muted' }, `Version ${info.version || ''} · OpenAPI ${spec.openapi || ''}`),
    md(info.description), h('p', {}, 'Server: ', h('span', { class: 'server', 'data-testid': 'server-url' }, server)));

  const byTag = new Map((spec.tags || []).map(t => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const m of methods) {
      const op = item[m];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || 'other';
      if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, ops: [] });
      byTag.get(tag).ops.push([path, item, m, op]);
    }
  }
  for (const { tag, ops } of byTag.values()) {
    if (!ops.length) continue;
    add(doc, h('h2', { class: 'tag', id: 'tag-' + tag.name }, tag.name), md(tag.description));
    toc.append(h('h4', {}, tag.name));
    for (const [path, item, m, op] of ops) {
      const el = operation(path, item, m, op);
      doc.append(el);
      toc.append(h('a', { href: '#' + el.id, 'data-op': el.id, onclick: () => { el.open = true; } },
        h('span', { class: 'm ' + m }, m.toUpperCase()), h('span', { class: 'path' }, path)));
    }
  }

  const schemas = (spec.components && spec.components.schemas) || {};
  doc.append(h('h2', { class: 'tag', id: 'schemas' }, 'Schemas'));
  toc.append(h('h4', {}, h('a', { href: '#schemas' }, 'Schemas')));
  for (const [name, s] of Object.entries(schemas)) {
    doc.append(h('details', { class: 'op', id: 'schema-' + name },
      h('summary', {}, h('span', { class: 'path' }, name), h('span', { class: 'summary' }, s.description ? firstSentence(s.description) : '')),
      h('div', { class: 'body' }, md(s.description), schema(s))));
  }

  document.getElementById('filter').addEventListener('input', ev => {
    const q = ev.target.value.toLowerCase();
    for (const a of toc.querySelectorAll('a[data-op]')) a.hidden = q !== '' && !a.textContent.toLowerCase().includes(q);
    for (const d of doc.querySelectorAll('details.op[data-path]')) d.hidden = q !== '' && !(d.dataset.method + ' ' + d.dataset.path).toLowerCase().includes(q);
  });

  const open = () => {
    const el = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (el && el.tagName === 'DETAILS') { el.open = true; el.scrollIntoView(); }
  };
  window.addEventListener('hashchange', open);
  open();
}

render();
