// 总览: the hazard-source map (一张图, map.js) and the grid of hazard-source cards, sorted by worst alarm,
// with the region and tier filters (shared with the alarm list and the KPI view). The map is
// coloured by open warning level (预警) where the warning part runs, or by alarm (a switch).

import { GATEWAY, HS_KIND, PRIORITY, PRIORITY_RANK, h, num } from '../fmt.js';
import * as api from '../api.js';
import { WARN_LABEL, createMap } from '../map.js';
import { $, $$, markup, prioOf, simBadge, tierBadge } from '../ui.js';

const MARKUP = `
<div class="toolbar">
  <label>地区 <select id="f-region"><option value="">全部</option></select></label>
  <label>等级 <select id="f-tier">
    <option value="">全部</option><option value="1">一级</option>
    <option value="2">二级</option><option value="3">三级</option>
    <option value="4">四级</option></select></label>
  <span class="legend" id="legend-alarm">
    <i class="p-critical"></i>紧急 <i class="p-high"></i>高 <i class="p-medium"></i>中
    <i class="p-low"></i>低 <i class="p-none"></i>无报警
  </span>
  <span class="legend" id="legend-warning" hidden>
    <i class="wn-red"></i>红色预警 <i class="wn-orange"></i>橙色预警 <i class="wn-yellow"></i>黄色预警
    <i class="wn-blue"></i>蓝色预警 <i class="p-none"></i>无预警
  </span>
  <span id="hs-count" class="muted"></span>
</div>
<div class="overview-body">
  <figure class="map-box">
    <div class="map-head"><b id="map-title">重大危险源分布</b>
      <span class="muted">点击企业定位其危险源 · 点击数字放大</span>
      <span class="seg" id="map-mode" role="group" aria-label="地图着色" hidden>
        <button type="button" class="ghost" data-mode="warning" aria-pressed="true">按预警</button>
        <button type="button" class="ghost" data-mode="alarm" aria-pressed="false">按报警</button>
      </span>
      <button type="button" id="map-reset" class="ghost">复位</button></div>
    <div id="map" class="map" role="img" aria-label="重大危险源分布图（一张图）"></div>
    <figcaption id="map-note" class="muted"></figcaption>
  </figure>
  <div id="hs-grid" class="hs-grid"></div>
</div>`;

let root = null;
let map = null;
let mode = 'warning'; // the map's colouring, while the warning part runs

/** Open warnings in scope: "enterprise/hazard source" -> level ("enterprise/" for its own). */
async function openWarnings() {
  const page = await api.get('/warnings', { open: 'true', limit: 1000 });
  const out = new Map();
  for (const w of page.items) {
    const key = `${w.enterprise}/${w.hazard_source || ''}`;
    if (!out.has(key)) out.set(key, w.level); // listed gravest first
  }
  return out;
}

function showMode(ctx) {
  const on = !!ctx.state.principal?.warnings;
  const m = on ? mode : 'alarm';
  $('#map-mode', root).hidden = !on;
  for (const b of $$('#map-mode button', root)) b.setAttribute('aria-pressed', String(b.dataset.mode === m));
  $('#legend-alarm', root).hidden = m !== 'alarm';
  $('#legend-warning', root).hidden = m !== 'warning';
  map.colourBy(m);
  return m;
}

function regionOptions(state) {
  const sel = $('#f-region', root);
  // city prefixes (4 digits) and counties (6 digits) of the enterprises in scope
  const counties = [...new Set([...state.enterprises.values()].map((e) => e.region))];
  const regions = [...new Set([...counties, ...counties.map((r) => r.slice(0, 4))])].sort();
  const have = [...sel.options].map((o) => o.value).slice(1);
  if (regions.join() !== have.join()) {
    // a city without a known name reads as its code and （市）; counties indent under it
    const label = (r) => (r.length === 4
      ? (state.regionNames.has(r) ? state.regionName(r) : `${r}（市）`) : `\u3000${state.regionName(r)}`);
    sel.replaceChildren(h('option', { value: '' }, '全部'),
      ...regions.map((r) => h('option', { value: r }, label(r))));
  }
  sel.value = regions.includes(state.filters.region) ? state.filters.region : '';
}

function render(ctx) {
  const { state } = ctx;
  regionOptions(state);
  $('#f-tier', root).value = state.filters.tier;
  if (!state.principal) return; // not signed in: nothing to count yet
  const list = state.hazardSources.filter((x) => state.inFilter(x.region, x.tier));
  list.sort((a, b) => (PRIORITY_RANK[prioOf(a.worst_alarm)] ?? 9)
    - (PRIORITY_RANK[prioOf(b.worst_alarm)] ?? 9)
    || (a.tier || 9) - (b.tier || 9) || a.code.localeCompare(b.code));
  $('#hs-count', root).textContent = `重大危险源 ${list.length} 处`;
  const grid = $('#hs-grid', root);
  grid.replaceChildren(...list.map((x) => hsCard(ctx, x)));
  if (!list.length) {
    grid.append(h('p', { class: 'muted' }, state.hazardSources.length
      ? '没有符合筛选条件的危险源' : '辖区内无危险源'));
  }
  const m = showMode(ctx);
  const warnings = m === 'warning' ? openWarnings() : Promise.resolve(new Map());
  warnings.then((w) => {
    if (!root) return '';
    markWarnings(w);
    return map.draw(list, state, w);
  }).then((province) => {
    if (root) $('#map-title', root).textContent = `${province ? `${province} · ` : ''}重大危险源分布`;
  }).catch((e) => ctx.failed(e, '绘制地图'));
}

function hsCard(ctx, x) {
  const prio = prioOf(x.worst_alarm);
  const w = x.worst_alarm;
  return h('button', {
    type: 'button', class: `hs-card p-${prio}`, dataset: { hs: `${x.enterprise}/${x.code}`,
      priority: prio },
    onclick: () => ctx.show('sensor', { enterprise: x.enterprise, hazardSource: x.code, tag: w && w.tag }),
  },
  h('div', { class: 'hs-top' }, tierBadge(x.tier), h('b', {}, x.name),
    h('span', { class: 'code' }, x.code), ctx.state.isSim(x.enterprise) && simBadge()),
  h('div', { class: 'hs-ent' }, `${x.enterprise_name} · ${x.region} · ${HS_KIND[x.kind] || x.kind}`),
  h('div', { class: 'hs-alarm' }, w
    ? [h('span', { class: `prio p-${prio}` }, PRIORITY[prio]), ` ${w.message}`]
    : '运行正常'),
  h('div', { class: 'hs-foot' },
    `未关闭报警 ${x.open_alarms} · 网关`,
    h('span', { class: `gw gw-${x.gateway.state}` }, GATEWAY[x.gateway.state]),
    `· 传感器 ${x.sensors.length} · R=${num(x.r, 3)}`));
}

/** Each card of a source (or of an enterprise) with an open warning shows its level. */
function markWarnings(warnings) {
  for (const card of $$('#hs-grid .hs-card', root)) {
    const [ent, hs] = card.dataset.hs.split('/');
    const level = warnings.get(`${ent}/${hs}`) || warnings.get(`${ent}/`);
    $$('.wn-level', card).forEach((b) => b.remove());
    if (level) {
      $('.hs-top', card).append(h('span', { class: `wn-level wn-${level}`, dataset: { warning: level } },
        WARN_LABEL[level]));
    }
  }
}

/** A click on a map site outlines that enterprise's cards and scrolls to the first. */
function focusEnterprise(code) {
  const all = $$('#hs-grid .hs-card', root);
  const cards = all.filter((c) => c.dataset.hs.startsWith(`${code}/`));
  for (const c of all) c.classList.toggle('focus', cards.includes(c));
  if (cards[0]) cards[0].scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

export default {
  id: 'overview',
  title: '总览',
  mount(el, ctx) {
    root = el;
    el.append(markup(MARKUP));
    map = createMap($('#map', el), $('#map-note', el), focusEnterprise);
    $('#map-reset', el).addEventListener('click', () => map.reset());
    for (const b of $$('#map-mode button', el)) {
      b.addEventListener('click', () => { mode = b.dataset.mode; render(ctx); });
    }
    for (const [id, key] of [['#f-region', 'region'], ['#f-tier', 'tier']]) {
      $(id, el).addEventListener('change', (ev) => {
        ctx.state.filters[key] = ev.target.value;
        ctx.changed({ kind: 'filters' });
      });
    }
    render(ctx);
  },
  update(ctx, change) {
    if (change.kind === 'registry' || change.kind === 'filters') render(ctx);
  },
  unmount() {
    map.dispose();
    map = null;
    root = null;
  },
};
