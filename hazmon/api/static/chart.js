// The trend chart: inline SVG of bucket means with a min-max band, the sensor's limit
// lines and markers where its alarms were raised.

import { LIMIT, axisTime, num, s } from './fmt.js';

// Drawn at the element's own width (360-960 user units), so the axis text keeps its size
// on a phone instead of shrinking with a fixed viewBox.
const MAX_W = 960;
const MIN_W = 340;
const M_WIDE = { left: 64, right: 110, top: 16, bottom: 34 };
const M_NARROW = { left: 50, right: 84, top: 16, bottom: 34 };
const LIMIT_CLASS = { high_high: 'lim-hh', high: 'lim-h', low: 'lim-l', low_low: 'lim-ll' };

function niceTicks(lo, hi, n = 6) {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((k) => k >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.round(v / step) * step);
  }
  return out;
}

/**
 * svg: the <svg> element to fill. points: [{t, mean, min, max}] in ms, oldest first.
 * limits: {high_high, high, low, low_low}; alarms: [{t, priority}]; every: bucket ms.
 */
export function drawTrend(svg, { points, from, to, every, limits, unit, alarms }) {
  svg.replaceChildren();
  const W = Math.round(Math.max(MIN_W, Math.min(MAX_W, svg.clientWidth || MAX_W)));
  const narrow = W < 600;
  const H = narrow ? 240 : 340;
  const M = narrow ? M_NARROW : M_WIDE;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const lims = Object.entries(limits || {}).filter(([, v]) => v != null);
  const values = points.flatMap((p) => [p.min, p.max, p.mean]).filter((v) => v != null);
  const all = [...values, ...lims.map(([, v]) => v)];
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  const pad = (hi - lo || Math.abs(hi) || 1) * 0.08;
  lo -= pad;
  hi += pad;
  const x = (t) => M.left + ((t - from) / (to - from)) * (W - M.left - M.right);
  const y = (v) => M.top + (1 - (v - lo) / (hi - lo)) * (H - M.top - M.bottom);

  const grid = s('g', { class: 'grid' }, svg);
  for (const v of niceTicks(lo, hi)) {
    s('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }, grid);
    s('text', { x: M.left - 6, y: y(v) + 4, class: 'ytick' }, grid, num(v));
  }
  const long = to - from > 24 * 3600e3;
  const xticks = narrow ? 3 : 6;
  for (let i = 0; i <= xticks; i++) {
    const t = from + ((to - from) * i) / xticks;
    s('line', { x1: x(t), x2: x(t), y1: M.top, y2: H - M.bottom }, grid);
    s('text', { x: x(t), y: H - M.bottom + 18, class: 'xtick' }, grid, axisTime(t, long));
  }
  s('text', { x: 8, y: M.top + 4, class: 'unit' }, svg, unit || '');
  s('rect', { x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom,
    class: 'frame' }, svg);

  // runs without gaps: a bucket missing for more than 2.5 intervals breaks the line
  const runs = [];
  let run = [];
  for (const p of points) {
    if (p.mean == null) continue;
    if (run.length && p.t - run[run.length - 1].t > every * 2.5) { runs.push(run); run = []; }
    run.push(p);
  }
  if (run.length) runs.push(run);
  for (const r of runs) {
    if (r[0].min != null) {
      const top = r.map((p) => `${x(p.t)},${y(p.max)}`);
      const bottom = r.slice().reverse().map((p) => `${x(p.t)},${y(p.min)}`);
      s('polygon', { points: [...top, ...bottom].join(' '), class: 'band' }, svg);
    }
    s('polyline', { points: r.map((p) => `${x(p.t)},${y(p.mean)}`).join(' '), class: 'mean' }, svg);
    if (r.length === 1) s('circle', { cx: x(r[0].t), cy: y(r[0].mean), r: 2.5, class: 'dot' }, svg);
  }

  for (const [name, v] of lims) {
    if (v < lo || v > hi) continue;
    const cls = LIMIT_CLASS[name] || 'lim-h';
    s('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), class: `limit ${cls}`,
      'data-limit': name }, svg);
    s('text', { x: W - M.right + 6, y: y(v) + 4, class: `limit-label ${cls}` }, svg,
      `${LIMIT[name] || name} ${num(v)}`);
  }

  for (const a of alarms || []) {
    if (a.t < from || a.t > to) continue;
    const cx = x(a.t);
    s('path', { d: `M${cx - 5},${M.top} L${cx + 5},${M.top} L${cx},${M.top + 8} Z`,
      class: `marker p-${a.priority}` }, svg);
  }
  if (!values.length) {
    s('text', { x: (M.left + W - M.right) / 2, y: H / 2, class: 'empty' }, svg, '该时段无数据');
  }
}
