// Overview: health and instance facts (/v1/health, /v1/info), counts, and
// a live throughput chart from /v1/metrics polled every 2 s.

import { api } from './api.js';
import { h, clear, card, fmtBytes, fmtDuration, fmtNum, errorBox } from './ui.js';
import { parseProm, total } from './prom.js';
import { LineChart } from './chart.js';

const series = [
  { name: 'HTTP requests/s', color: '#2f5bd3', get: s => total(s, 'luma_http_requests_total') },
  { name: 'events/s', color: '#12b76a', get: s => total(s, 'events_total') },
  { name: 'state writes/s', color: '#f79009', get: s => total(s, 'state_put_total') + total(s, 'state_delete_total') },
  { name: 'vector ops/s', color: '#9e77ed', get: s => total(s, 'vector_ops_total') },
];

export function mount(root) {
  const facts = h('div', { class: 'cards', 'data-testid': 'overview-facts' });
  const counts = h('div', { class: 'cards', 'data-testid': 'overview-counts' });
  const docList = h('div', { class: 'hint' });
  const err = h('div');
  const canvas = h('canvas', { 'aria-label': 'throughput chart', 'data-testid': 'throughput-chart' });
  const rates = h('div', { class: 'legend' });
  const sse = h('span', { class: 'badge' }, 'SSE clients: –');
  root.append(
    h('h1', {}, 'Overview'),
    err,
    h('div', { class: 'panel' }, facts),
    h('div', { class: 'panel' }, h('h2', {}, 'Contents'), counts, docList),
    h('div', { class: 'panel' },
      h('div', { class: 'row' }, h('h2', {}, 'Throughput'), h('span', { class: 'spacer' }), sse),
      h('div', { class: 'chart-wrap' }, canvas), rates),
  );
  const chart = new LineChart(canvas, series);

  async function loadInfo() {
    try {
      const [health, info] = await Promise.all([api('GET', '/v1/health'), api('GET', '/v1/info')]);
      clear(err);
      clear(facts,
        card('Status', h('span', { class: 'badge ok' }, health.status), { testid: 'health-status' }),
        card('Version', info.version, { testid: 'version' }),
        card('Uptime', fmtDuration(info.uptime_secs)),
        card('Data directory', info.in_memory ? 'in memory' : info.data_dir, { small: true, testid: 'data-dir' }),
        card('Auth', info.auth ? 'API key' : 'off (local mode)'),
        card('SQLite', info.sqlite ? 'enabled' : 'disabled'),
        card('Last offset', fmtNum(info.last_offset)),
        card('Retention floor', fmtNum(info.retention_floor)),
        card('Event log', fmtBytes(info.event_log_bytes)),
        card('Disk use', fmtBytes(info.disk_bytes)),
        card('Go', info.go_version, { small: true }),
      );
      const c = info.counts;
      const approx = c.exact ? '' : '≥ ';
      clear(counts,
        card('State keys', approx + fmtNum(c.state_keys), { testid: 'count-keys' }),
        card('Documents', approx + fmtNum(c.documents), { testid: 'count-docs' }),
        card('Doc collections', approx + fmtNum(c.doc_collections.length)),
        card('Vector collections', fmtNum(c.vector_collections), { testid: 'count-collections' }),
        card('Vectors', fmtNum(c.vectors)),
      );
      clear(docList, c.doc_collections.length
        ? ['Document collections: ', c.doc_collections.map(d => `${d.name} (${fmtNum(d.documents)})`).join(', ')]
        : '');
    } catch (e) {
      clear(err, errorBox(e));
    }
  }

  let last = null;
  async function loadMetrics() {
    let text;
    try {
      text = await api('GET', '/v1/metrics');
    } catch (e) {
      clear(err, errorBox(e));
      return;
    }
    const samples = parseProm(text);
    const now = performance.now();
    const values = series.map(s => s.get(samples));
    if (last) {
      const dt = (now - last.t) / 1000;
      const r = values.map((v, i) => Math.max(0, (v - last.v[i]) / dt));
      chart.push(r);
      clear(rates, series.map((s, i) => h('span', {}, h('i', { class: 'swatch', dataset: { color: s.color } }), `${s.name}: ${r[i].toFixed(1)}`)));
      for (const i of rates.querySelectorAll('i.swatch')) i.style.background = i.dataset.color;
    }
    last = { t: now, v: values };
    sse.textContent = 'SSE clients: ' + fmtNum(total(samples, 'sse_clients'));
  }

  loadInfo();
  loadMetrics();
  const t1 = setInterval(loadInfo, 5000);
  const t2 = setInterval(loadMetrics, 2000);
  return () => { clearInterval(t1); clearInterval(t2); chart.destroy(); };
}
