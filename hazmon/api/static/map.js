// The hazard-source map: inline SVG of the listed enterprises by location, coloured by
// their worst open alarm, on a plain graticule (no tiles: the page works on a closed network).

import { PRIORITY_RANK, h, s, tierLabel } from './fmt.js';
import { prioOf } from './ui.js';

const W = 640;
const H = 420;

/**
 * svg, note: the <svg> and the caption listing enterprises without coordinates.
 * list: the hazard sources shown; state: the page state; onPick(code): a site was clicked.
 */
export function drawMap(svg, note, list, state, onPick) {
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  // per enterprise: worst alarm and most severe tier among the listed hazard sources
  const byEnt = new Map();
  for (const x of list) {
    const e = byEnt.get(x.enterprise) || { prio: 'none', tier: null, n: 0 };
    const p = prioOf(x.worst_alarm);
    if ((PRIORITY_RANK[p] ?? 9) < (PRIORITY_RANK[e.prio] ?? 9)) e.prio = p;
    if (x.tier && (!e.tier || x.tier < e.tier)) e.tier = x.tier;
    e.n += 1;
    byEnt.set(x.enterprise, e);
  }
  const located = [...byEnt.keys()].map((c) => state.enterprises.get(c)).filter((e) => e && e.location);
  const unlocated = [...byEnt.keys()].filter((c) => !(state.enterprises.get(c) || {}).location);
  note.replaceChildren();
  if (unlocated.length) {
    note.append('无坐标：', ...unlocated.map((c) => h('span', { class: `dot-label p-${byEnt.get(c).prio}` },
      h('i'), state.entName(c))));
  }
  if (!located.length) {
    s('text', { x: W / 2, y: H / 2, class: 'empty' }, svg, '无带坐标的企业');
    return;
  }
  const lats = located.map((e) => e.location.lat);
  const lons = located.map((e) => e.location.lon);
  let [la0, la1, lo0, lo1] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const padDeg = Math.max(0.25, (la1 - la0) * 0.12, (lo1 - lo0) * 0.12);
  la0 -= padDeg; la1 += padDeg; lo0 -= padDeg; lo1 += padDeg;
  const kx = Math.cos(((la0 + la1) / 2) * Math.PI / 180);
  const scale = Math.min((W - 60) / ((lo1 - lo0) * kx), (H - 40) / (la1 - la0));
  const ox = (W - (lo1 - lo0) * kx * scale) / 2;
  const oy = (H - (la1 - la0) * scale) / 2;
  const px = (lon) => ox + (lon - lo0) * kx * scale;
  const py = (lat) => oy + (la1 - lat) * scale;
  const span = Math.max(la1 - la0, lo1 - lo0);
  const step = [0.1, 0.2, 0.5, 1, 2, 5].find((k) => span / k <= 8) || 10;
  const grid = s('g', { class: 'graticule' }, svg);
  for (let v = Math.ceil(lo0 / step) * step; v <= lo1; v += step) {
    s('line', { x1: px(v), x2: px(v), y1: py(la1), y2: py(la0) }, grid);
    s('text', { x: px(v) + 3, y: py(la0) - 4 }, grid, `${v.toFixed(1)}°E`);
  }
  for (let v = Math.ceil(la0 / step) * step; v <= la1; v += step) {
    s('line', { x1: px(lo0), x2: px(lo1), y1: py(v), y2: py(v) }, grid);
    s('text', { x: px(lo0) + 3, y: py(v) - 3 }, grid, `${v.toFixed(1)}°N`);
  }
  for (const e of located) {
    const info = byEnt.get(e.code);
    const x = px(e.location.lon);
    const y = py(e.location.lat);
    const g = s('g', { class: `site p-${info.prio}`, 'data-enterprise': e.code, tabindex: 0 }, svg);
    s('title', {}, g, `${e.name}（${tierLabel(info.tier)}，危险源 ${info.n} 处）`);
    if (info.prio === 'critical' || info.prio === 'high') s('circle', { cx: x, cy: y, r: 18, class: 'halo' }, g);
    s('circle', { cx: x, cy: y, r: info.tier === 1 ? 11 : 8, class: 'pin' }, g);
    s('text', { x: x + 22, y: y - 2, class: 'site-name' }, g, e.name);
    s('text', { x: x + 22, y: y + 14, class: 'site-tier' }, g,
      `${tierLabel(info.tier)} · 危险源 ${info.n}${state.isSim(e.code) ? ' · 模拟' : ''}`);
    g.addEventListener('click', () => onPick(e.code));
  }
}
