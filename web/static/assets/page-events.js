// Live events: /v1/stream read with fetch() (every event type, including
// user events; the key travels in a header). Filters are the stream's own
// (types, key_prefix, collection). Pause closes the stream and resume
// reconnects after the last offset seen, so nothing is lost or repeated;
// so does the automatic reconnect after a network error. Gap events (the
// requested offsets are below retention, or a slow reader) are shown.

import { api } from './api.js';
import { openStream } from './sse.js';
import { h, clear, errorBox, fmtTime } from './ui.js';

const MAX_ROWS = 500;

export function mount(root) {
  const types = h('input', { placeholder: 'all types, or a,b,c', size: 24, 'data-testid': 'ev-types' });
  const keyPrefix = h('input', { placeholder: 'key prefix', size: 16, 'data-testid': 'ev-prefix' });
  const collection = h('input', { placeholder: 'collection', size: 14, 'data-testid': 'ev-collection' });
  const from = h('select', { 'data-testid': 'ev-from' },
    h('option', { value: 'now' }, 'live from now'),
    h('option', { value: 'start' }, 'from the oldest retained'),
    h('option', { value: 'offset' }, 'after offset…'));
  const offset = h('input', { type: 'number', min: 0, size: 10, placeholder: 'offset', hidden: true, 'data-testid': 'ev-offset' });
  const dot = h('span', { class: 'status-dot' });
  const statusText = h('span', { 'data-testid': 'ev-status' }, 'stopped');
  const counter = h('span', { class: 'muted' });
  const pauseBtn = h('button', { disabled: true, 'data-testid': 'ev-pause' }, 'Pause');
  const err = h('div');
  const list = h('div', { class: 'events', 'data-testid': 'ev-list' });

  let ctrl = null;       // AbortController of the open stream
  let lastId = null;     // offset of the last event received
  let paused = false;
  let retry = null;
  let received = 0;
  let params = null;

  from.addEventListener('change', () => { offset.hidden = from.value !== 'offset'; });

  function setStatus(kind, text) {
    dot.className = 'status-dot ' + kind;
    statusText.textContent = text;
  }

  function addRow(row) {
    list.prepend(row);
    while (list.childElementCount > MAX_ROWS) list.lastElementChild.remove();
    counter.textContent = `${received} received` + (received > MAX_ROWS ? ` (showing the newest ${MAX_ROWS})` : '');
  }

  function onEvent(ev) {
    received++;
    let env = null;
    try { env = JSON.parse(ev.data); } catch { /* shown raw */ }
    if (ev.event === 'gap') {
      const d = env || {};
      addRow(h('div', { class: 'ev gap', 'data-testid': 'ev-gap' },
        `Gap: events ${d.from_offset}…${d.to_offset} are not available (${d.dropped} dropped: below the retention floor, or this reader fell behind). The stream continues after them.`));
      return;
    }
    if (ev.id !== null && ev.id !== '') lastId = Number(ev.id);
    const data = env && typeof env === 'object' ? env.data : ev.data;
    const where = data && typeof data === 'object' ? (data.key ?? data.collection ?? '') : '';
    const row = h('div', { class: 'ev', 'data-testid': 'ev-row', dataset: { type: ev.event, offset: ev.id || '' } },
      h('span', { class: 'muted' }, '#' + (ev.id || '')),
      h('span', { class: 'muted' }, env && env.ts_ms ? fmtTime(env.ts_ms).split(' ').pop() : ''),
      h('span', { class: 'type', title: ev.event }, ev.event),
      h('span', { class: 'data' }, where ? h('b', {}, String(where), ' ') : '', JSON.stringify(data)));
    row.addEventListener('click', () => row.classList.toggle('open'));
    addRow(row);
  }

  async function connect() {
    stop();
    paused = false;
    clear(err);
    clear(list);
    received = 0;
    counter.textContent = '';
    const p = { types: types.value.trim(), key_prefix: keyPrefix.value, collection: collection.value };
    if (from.value === 'now') {
      try {
        p.since = (await api('GET', '/v1/health')).last_offset;
      } catch (e) { clear(err, errorBox(e)); return; }
    } else if (from.value === 'start') {
      p.since = 0;
    } else {
      p.since = offset.value === '' ? 0 : Number(offset.value);
    }
    params = p;
    lastId = p.since;
    run();
  }

  async function run() {
    clearTimeout(retry);
    const c = new AbortController();
    ctrl = c;
    setStatus('', 'connecting…');
    pauseBtn.disabled = false;
    pauseBtn.textContent = 'Pause';
    try {
      await openStream({ ...params, since: lastId ?? params.since }, {
        signal: c.signal,
        onOpen: () => setStatus('live', `live (after offset ${lastId ?? params.since})`),
        onEvent,
      });
      if (ctrl === c) reconnect('the server ended the stream');
    } catch (e) {
      if (c.signal.aborted) return;
      if (e.status) { // an answer, not a network error: show it, do not retry
        setStatus('error', 'stopped');
        pauseBtn.disabled = true;
        clear(err, errorBox(e));
        return;
      }
      reconnect(e.message);
    }
  }

  function reconnect(why) {
    setStatus('error', `disconnected (${why}); reconnecting after offset ${lastId}…`);
    retry = setTimeout(run, 2000);
  }

  function stop() {
    clearTimeout(retry);
    if (ctrl) { ctrl.abort(); ctrl = null; }
  }

  pauseBtn.addEventListener('click', () => {
    if (!paused) {
      stop();
      paused = true;
      setStatus('paused', `paused at offset ${lastId}`);
      pauseBtn.textContent = 'Resume';
    } else {
      paused = false;
      run(); // resumes after lastId: events written meanwhile are replayed
    }
  });

  root.append(
    h('h1', {}, 'Events'),
    h('div', { class: 'panel' },
      h('div', { class: 'row' },
        h('label', {}, 'Types', types), h('label', {}, 'Key prefix', keyPrefix), h('label', {}, 'Collection', collection),
        h('label', {}, 'Start', from), offset,
        h('button', { class: 'primary', onclick: connect, 'data-testid': 'ev-connect' }, 'Connect'),
        pauseBtn,
        h('button', { onclick: () => { clear(list); received = 0; counter.textContent = ''; } }, 'Clear')),
      h('div', { class: 'status-line' }, dot, statusText, h('span', { class: 'spacer' }), counter),
      err),
    h('div', { class: 'panel' }, list));
  connect();
  return stop;
}
