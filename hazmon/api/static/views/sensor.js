// 传感器: one hazard source's sensors as chips, the chosen sensor's trend with its limits
// and alarm markers, and its alarm history. Opened from a hazard-source card or an alarm
// (ctx.show('sensor', {enterprise, hazardSource, tag})), or from its tab.

import * as api from '../api.js';
import { drawTrend } from '../chart.js';
import {
  GATEWAY, KIND, LIMIT, PRIORITY, PRIORITY_RANK, STATE, h, num, ruleLabel, s, time,
} from '../fmt.js';
import { $, markup, prioOf, rangeSwitch, simBadge, tierBadge } from '../ui.js';

const MARKUP = `
<div class="toolbar">
  <button type="button" id="back" class="ghost">← 返回总览</button>
  <h2 id="sv-title">请选择危险源或报警</h2>
  <span id="sv-sim" class="sim" hidden>模拟</span>
  <span class="spacer"></span>
  <span id="sv-ranges" class="seg">
    <button type="button" data-range="3600000">1小时</button>
    <button type="button" data-range="21600000">6小时</button>
    <button type="button" data-range="86400000">24小时</button>
    <button type="button" data-range="604800000">7天</button>
  </span>
</div>
<div id="sv-sensors" class="chips"></div>
<div class="sv-info" id="sv-info"></div>
<svg id="trend" class="trend" role="img" aria-label="趋势图"></svg>
<h3>报警历史</h3>
<table class="table" id="sv-history">
  <thead><tr><th>报警时间</th><th>优先级</th><th>类型</th><th>内容</th><th>状态</th>
    <th>确认人</th><th>恢复时间</th></tr></thead>
  <tbody></tbody>
</table>`;

const EVERY = [['5s', 5e3], ['10s', 10e3], ['15s', 15e3], ['30s', 30e3], ['1m', 60e3],
  ['2m', 120e3], ['5m', 300e3], ['10m', 600e3], ['15m', 900e3], ['30m', 1800e3],
  ['1h', 3600e3], ['2h', 7200e3]];

/** The bucket length giving at most ~240 points over the range. */
const everyFor = (range) => EVERY.find(([, ms]) => range / ms <= 240) || EVERY[EVERY.length - 1];

// The officer's choice, kept while other views are shown: {enterprise, hazardSource, tag,
// sensors} or null, and the trend period.
let cur = null;
let range = 3600e3;
let root = null;
let ctx = null;

function title() {
  const el = $('#sv-title', root);
  if (!cur) { el.textContent = '请选择危险源或报警'; return; }
  const hs = ctx.state.hazardSources.find((x) => x.enterprise === cur.enterprise
    && x.code === cur.hazardSource);
  el.textContent = hs ? `${hs.name}（${hs.code}）· ${hs.enterprise_name}`
    : `${cur.hazardSource} · ${ctx.state.entName(cur.enterprise)}`;
  el.prepend(tierBadge(hs && hs.tier), ' ');
}

async function open(arg) {
  cur = { enterprise: arg.enterprise, hazardSource: arg.hazardSource, tag: arg.tag || null, sensors: [] };
  const mine = cur;
  title();
  try {
    const page = await api.get('/sensors', { enterprise: mine.enterprise,
      hazard_source: mine.hazardSource, limit: 500 });
    if (mine !== cur || !root) return; // the officer moved on
    mine.sensors = page.items;
    if (!mine.tag || !page.items.some((x) => x.tag === mine.tag)) {
      const worst = page.items.filter((x) => x.worst_alarm)
        .sort((a, b) => PRIORITY_RANK[a.worst_alarm.priority] - PRIORITY_RANK[b.worst_alarm.priority]);
      mine.tag = (worst[0] || page.items[0] || {}).tag || null;
    }
    renderChips();
    await loadSensor();
  } catch (e) { ctx.failed(e, '加载传感器'); }
}

function renderChips() {
  $('#sv-sensors', root).replaceChildren(...cur.sensors.map((x) => h('button', {
    type: 'button', class: `chip p-${prioOf(x.worst_alarm)}${x.tag === cur.tag ? ' active' : ''}`,
    dataset: { tag: x.tag },
    onclick: () => { cur.tag = x.tag; renderChips(); loadSensor(); },
  }, h('b', {}, KIND[x.kind] || x.kind), ` ${x.name || x.tag}`,
  h('span', { class: 'chip-val' }, x.last ? ` ${num(x.last.value)} ${x.unit}` : ' —'))));
}

function renderInfo(sensor) {
  const lim = sensor.limits || {};
  $('#sv-info', root).replaceChildren(
    h('span', {}, `位号 ${sensor.tag}`), h('span', {}, `类型 ${KIND[sensor.kind] || sensor.kind}`
      + (sensor.gas ? `（${sensor.gas}）` : '')),
    h('span', {}, `量程 ${num(sensor.range[0])}–${num(sensor.range[1])} ${sensor.unit}`),
    h('span', {}, '限值 ' + (Object.entries(LIMIT).filter(([k]) => lim[k] != null)
      .map(([k, n]) => `${n} ${num(lim[k])}`).join('，') || '无')
      + (sensor.limits_basis && sensor.limits_basis !== 'registry' ? `（${sensor.limits_basis}）` : '')),
    h('span', {}, '最新 ', sensor.last
      ? `${num(sensor.last.value)} ${sensor.unit}（${time(sensor.last.ts)}）` : '—'),
    h('span', {}, '网关 ', h('span', { class: `gw gw-${sensor.gateway.state}` },
      GATEWAY[sensor.gateway.state])));
}

async function loadSensor() {
  const mine = cur;
  const sensor = mine.sensors.find((x) => x.tag === mine.tag);
  if (!sensor) { $('#sv-info', root).textContent = '该危险源无传感器'; return; }
  renderInfo(sensor);
  const to = Date.now();
  const from = to - range;
  const [every, everyMs] = everyFor(range);
  const params = { enterprise: mine.enterprise, tag: mine.tag, from: new Date(from).toISOString(),
    to: new Date(to).toISOString(), every };
  const history = loadHistory();
  let series = null;
  let simulated = false;
  let error = null;
  try {
    let t = await api.get('/telemetry', params);
    series = t.series[0];
    simulated = t.simulated;
    if (!series.buckets.length && !simulated) { // a simulated plant writes elsewhere
      const sim = await api.get('/telemetry', { ...params, simulated: true });
      if (sim.series[0].buckets.length) { t = sim; series = sim.series[0]; simulated = true; }
    }
  } catch (e) {
    if (e instanceof api.Unauthorized) { ctx.failed(e, '加载趋势'); return; }
    error = e.status === 503 ? '历史数据库暂不可用' : e.message;
  }
  const alarms = (await history).map((a) => ({ t: Date.parse(a.raised_at), priority: a.priority }));
  if (simulated) ctx.state.simulated.add(mine.enterprise);
  if (mine !== cur || sensor.tag !== mine.tag || !root) return; // the officer moved on
  $('#sv-sim', root).hidden = !(simulated || ctx.state.isSim(mine.enterprise));
  const points = (series ? series.buckets : []).map((b) => ({
    t: Date.parse(b.ts) + everyMs / 2, mean: b.mean, min: b.min, max: b.max }));
  const svg = $('#trend', root);
  drawTrend(svg, { points, from, to, every: everyMs, limits: sensor.limits || {}, unit: sensor.unit, alarms });
  if (error) s('text', { x: 480, y: 190, class: 'empty' }, svg, error);
}

async function loadHistory() {
  const mine = cur;
  if (!mine || !mine.tag) return [];
  try {
    const page = await api.get('/alarms', { enterprise: mine.enterprise, tag: mine.tag, limit: 50 });
    if (mine !== cur || !root) return page.items;
    const body = $('#sv-history tbody', root);
    body.replaceChildren(...page.items.map((a) => h('tr', { class: `p-${a.priority}` },
      h('td', {}, time(a.raised_at)),
      h('td', {}, h('span', { class: `prio p-${a.priority}` }, PRIORITY[a.priority])),
      h('td', {}, ruleLabel(a.rule)),
      h('td', {}, a.message, a.simulated && simBadge()),
      h('td', {}, a.open ? STATE[a.state] : '已关闭'),
      h('td', {}, a.acked_by ? `${a.acked_by}（${time(a.acked_at)}）` : '—'),
      h('td', {}, time(a.cleared_at)))));
    if (!page.items.length) {
      body.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, '无报警记录')));
    }
    return page.items;
  } catch (e) {
    ctx.failed(e, '加载报警历史');
    return [];
  }
}

export default {
  id: 'sensor',
  title: '传感器',
  mount(el, context, arg) {
    root = el;
    ctx = context;
    el.append(markup(MARKUP));
    $('#back', el).addEventListener('click', () => ctx.show('overview'));
    rangeSwitch($('#sv-ranges', el), range, (ms) => { range = ms; if (cur) loadSensor(); });
    if (arg) open(arg);
    else if (cur) { title(); renderChips(); loadSensor(); } // back through its tab
  },
  update(_ctx, change) {
    if (change.kind === 'alarm' && cur && change.alarm.tag === cur.tag) loadHistory();
    else if (change.kind === 'registry') title();
  },
  unmount() { root = null; },
};
