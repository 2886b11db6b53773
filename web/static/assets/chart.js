// A small live line chart on a canvas: a fixed window of samples per
// series, autoscaled, redrawn on each push and on resize.

export class LineChart {
  constructor(canvas, series, { points = 60, unit = '' } = {}) {
    this.canvas = canvas;
    this.series = series.map(s => ({ ...s, values: [] }));
    this.points = points;
    this.unit = unit;
    this.resize = () => this.draw();
    this.observer = new ResizeObserver(this.resize);
    this.observer.observe(canvas);
  }

  push(values) {
    this.series.forEach((s, i) => {
      s.values.push(values[i]);
      if (s.values.length > this.points) s.values.shift();
    });
    this.draw();
  }

  destroy() { this.observer.disconnect(); }

  draw() {
    const c = this.canvas, dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, hgt = c.clientHeight;
    if (!w || !hgt) return;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(hgt * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(hgt * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    const left = 54, right = 8, top = 8, bottom = 20;
    const pw = w - left - right, ph = hgt - top - bottom;
    let max = 0;
    for (const s of this.series) for (const v of s.values) if (Number.isFinite(v)) max = Math.max(max, v);
    max = niceCeil(max);
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#667085';
    g.strokeStyle = '#e4e7ec';
    g.lineWidth = 1;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (let i = 0; i <= 4; i++) {
      const y = top + ph - (ph * i) / 4;
      g.beginPath();
      g.moveTo(left, Math.round(y) + 0.5);
      g.lineTo(left + pw, Math.round(y) + 0.5);
      g.stroke();
      g.fillText(fmt((max * i) / 4) + this.unit, left - 6, y);
    }
    g.textAlign = 'left';
    g.textBaseline = 'alphabetic';
    g.fillText(`last ${this.points} samples`, left, hgt - 4);
    const step = pw / Math.max(1, this.points - 1);
    for (const s of this.series) {
      const n = s.values.length;
      if (n === 0) continue;
      g.strokeStyle = s.color;
      g.lineWidth = 1.8;
      g.beginPath();
      s.values.forEach((v, i) => {
        const x = left + pw - (n - 1 - i) * step;
        const y = top + ph - (max > 0 && Number.isFinite(v) ? (v / max) * ph : 0);
        i === 0 ? g.moveTo(x, y) : g.lineTo(x, y);
      });
      g.stroke();
      if (n === 1) {
        const v = s.values[0];
        g.fillStyle = s.color;
        g.beginPath();
        g.arc(left + pw, top + ph - (max > 0 && Number.isFinite(v) ? (v / max) * ph : 0), 2.5, 0, 2 * Math.PI);
        g.fill();
      }
    }
  }
}

function niceCeil(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (v >= 1e3) return (v / 1e3).toFixed(1) + 'k';
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
