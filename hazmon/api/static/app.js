// The monitoring-centre page: hazard-source map and grid, live alarm list, sensor trend
// view and alarm KPIs. Plain ES modules, no build step; every call carries the token.

import * as api from './api.js';
import { drawTrend } from './chart.js';
import {
  GATEWAY, HS_KIND, KIND, LIMIT, PRIORITY, PRIORITY_RANK, ROLE, STATE,
  dateTime, duration, h, num, ruleLabel, s, tierLabel, time,
} from './fmt.js';

const $ = (sel) => document.querySelector(sel);
const MAX_LISTED = 300;

const st = {
  principal: null, // {role, scope}
  enterprises: new Map(),
  hazardSources: [],
  alarms: new Map(), // open alarms by id
  simulated: new Set(), // enterprises seen with simulated data
  filters: { region: '', tier: '' },
  view: 'overview',
  sensor: null, // {enterprise, hazardSource, tag}
  range: 3600e3,
  kpiRange: 86400e3,
  stream: null,
  timers: [],
};

// --- general ---------------------------------------------------------------------------------

let toastTimer = 0;
function toast(text, bad = false) {
  const el = $('#toast');
  el.textContent = text;
  el.className = `toast show${bad ? ' bad' : ''}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = 'toast'; }, 4000);
}

function failed(e, what) {
  if (e instanceof api.Unauthorized) { logout('令牌无效或已被吊销，请重新登录'); return; }
  console.error(what, e);
  toast(`${what}失败：${e.message || e}`, true);
}

function debounce(fn, ms) {
  let t = 0;
  return () => { clearTimeout(t); t = setTimeout(fn, ms); };
}

const entName = (code) => (st.enterprises.get(code) || {}).name || code;
const isSim = (code) => st.simulated.has(code) || !!(st.enterprises.get(code) || {}).simulated;
const simBadge = () => h('span', { class: 'sim', title: '模拟数据，非真实工况' }, '模拟');
const tierBadge = (t) => h('span', { class: `tier t${t || 0}` }, tierLabel(t));
const prioOf = (worst) => (worst ? worst.priority : 'none');

function tick() {
  $('#clock').textContent = `北京时间 ${dateTime(Date.now())}`;
}

// --- login -----------------------------------------------------------------------------------

function showLogin(message = '') {
  $('#login-error').textContent = message;
  $('#scope').textContent = '未登录';
  const dlg = $('#login-dlg');
  if (!dlg.open) dlg.showModal();
  $('#login-token').focus();
}

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const t = $('#login-token').value.trim();
  if (!t) return;
  api.token.set(t);
  $('#login-ok').disabled = true;
  try {
    await start();
    $('#login-token').value = '';
    $('#login-dlg').close();
  } catch (e) {
    api.token.clear();
    $('#login-error').textContent = e instanceof api.Unauthorized
      ? '令牌无效或已被吊销' : `无法连接服务：${e.message || e}`;
  } finally {
    $('#login-ok').disabled = false;
  }
});
$('#login-dlg').addEventListener('cancel', (ev) => ev.preventDefault()); // no way around it

function logout(message = '') {
  api.token.clear();
  if (st.stream) st.stream.stop();
  st.stream = null;
  st.timers.forEach(clearInterval);
  st.timers = [];
  st.alarms.clear();
  st.hazardSources = [];
  st.enterprises.clear();
  renderAlarms();
  renderOverview();
  setConn('stopped');
  showLogin(message);
}
$('#logout').addEventListener('click', () => logout());

async function start() {
  const kpi = await api.get('/kpis', { from: new Date(Date.now() - 3600e3).toISOString() });
  const { role, scope } = kpi.caller;
  st.principal = { role, scope };
  $('#scope').textContent = `${ROLE[role] || role}监测中心 · 辖区 ${scope}`;
  await loadRegistry();
  await loadAlarms();
  if (st.stream) st.stream.stop();
  st.stream = api.followAlarms({
    onStatus: setConn,
    onConnected: () => { loadAlarms().catch((e) => failed(e, '加载报警')); },
    onEvent: onStreamEvent,
    onUnauthorized: () => logout('令牌无效或已被吊销，请重新登录'),
  });
  st.timers.push(setInterval(() => loadRegistry().catch((e) => failed(e, '刷新危险源')), 30000));
  st.timers.push(setInterval(() => {
    if (st.view === 'kpi') loadKpis().catch((e) => failed(e, '刷新绩效'));
  }, 60000));
  document.body.dataset.ready = '1';
}

function setConn(status) {
  const el = $('#conn');
  const text = {
    live: '● 实时连接', connecting: '● 连接中…', retry: '● 重连中…', stopped: '● 未连接',
  }[status];
  el.textContent = text;
  el.className = `conn ${{ live: 'on', connecting: 'wait', retry: 'wait' }[status] || 'off'}`;
  el.dataset.status = status;
}

// --- views -----------------------------------------------------------------------------------

function show(view) {
  st.view = view;
  for (const v of ['overview', 'sensor', 'kpi']) $(`#view-${v}`).hidden = v !== view;
  for (const b of document.querySelectorAll('#tabs button')) {
    b.classList.toggle('active', b.dataset.view === view);
  }
  if (view === 'kpi') loadKpis().catch((e) => failed(e, '加载绩效'));
}
for (const b of document.querySelectorAll('#tabs button')) {
  b.addEventListener('click', () => show(b.dataset.view));
}
$('#back').addEventListener('click', () => show('overview'));

// --- registry: map and hazard-source grid ----------------------------------------------------

async function loadRegistry() {
  const [ents, hss] = await Promise.all([
    api.getAll('/enterprises'), api.getAll('/hazard-sources'),
  ]);
  st.enterprises = new Map(ents.map((e) => [e.code, e]));
  st.hazardSources = hss;
  const sel = $('#f-region');
  // city prefixes (4 digits) and counties (6 digits) of the enterprises in scope
  const counties = [...new Set(ents.map((e) => e.region))];
  const regions = [...new Set([...counties, ...counties.map((r) => r.slice(0, 4))])].sort();
  const have = [...sel.options].map((o) => o.value).slice(1);
  if (regions.join() !== have.join()) {
    sel.replaceChildren(h('option', { value: '' }, '全部'), ...regions.map((r) => h('option',
      { value: r }, r.length === 4 ? `${r}（市）` : `\u3000${r}`)));
    sel.value = regions.includes(st.filters.region) ? st.filters.region : '';
  }
  renderOverview();
}
const refreshRegistry = debounce(() => loadRegistry().catch((e) => failed(e, '刷新危险源')), 700);

function matches(region, tier) {
  const f = st.filters;
  return (!f.region || (region || '').startsWith(f.region))
    && (!f.tier || String(tier) === f.tier);
}

for (const [id, key] of [['#f-region', 'region'], ['#f-tier', 'tier']]) {
  $(id).addEventListener('change', (ev) => {
    st.filters[key] = ev.target.value;
    renderOverview();
    renderAlarms();
  });
}

function renderOverview() {
  const list = st.hazardSources.filter((x) => matches(x.region, x.tier));
  list.sort((a, b) => (PRIORITY_RANK[prioOf(a.worst_alarm)] ?? 9)
    - (PRIORITY_RANK[prioOf(b.worst_alarm)] ?? 9)
    || (a.tier || 9) - (b.tier || 9) || a.code.localeCompare(b.code));
  $('#hs-count').textContent = `重大危险源 ${list.length} 处`;
  $('#hs-grid').replaceChildren(...list.map(hsCard));
  if (!list.length) {
    $('#hs-grid').append(h('p', { class: 'muted' }, st.hazardSources.length
      ? '没有符合筛选条件的危险源' : '辖区内无危险源'));
  }
  renderMap(list);
}

function hsCard(x) {
  const prio = prioOf(x.worst_alarm);
  const w = x.worst_alarm;
  return h('button', {
    type: 'button', class: `hs-card p-${prio}`, dataset: { hs: `${x.enterprise}/${x.code}`,
      priority: prio },
    onclick: () => openSensor(x.enterprise, x.code, w && w.tag),
  },
  h('div', { class: 'hs-top' }, tierBadge(x.tier), h('b', {}, x.name),
    h('span', { class: 'code' }, x.code), isSim(x.enterprise) && simBadge()),
  h('div', { class: 'hs-ent' }, `${x.enterprise_name} · ${x.region} · ${HS_KIND[x.kind] || x.kind}`),
  h('div', { class: 'hs-alarm' }, w
    ? [h('span', { class: `prio p-${prio}` }, PRIORITY[prio]), ` ${w.message}`]
    : '运行正常'),
  h('div', { class: 'hs-foot' },
    `未关闭报警 ${x.open_alarms} · 网关`,
    h('span', { class: `gw gw-${x.gateway.state}` }, GATEWAY[x.gateway.state]),
    `· 传感器 ${x.sensors.length} · R=${num(x.r, 3)}`));
}

function renderMap(list) {
  const svg = $('#map');
  svg.replaceChildren();
  const W = 640;
  const H = 420;
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
  const located = [...byEnt.keys()].map((c) => st.enterprises.get(c)).filter((e) => e && e.location);
  const unlocated = [...byEnt.keys()].filter((c) => !(st.enterprises.get(c) || {}).location);
  const note = $('#map-note');
  note.replaceChildren();
  if (unlocated.length) {
    note.append('无坐标：', ...unlocated.map((c) => h('span', { class: `dot-label p-${byEnt.get(c).prio}` },
      h('i'), entName(c))));
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
      `${tierLabel(info.tier)} · 危险源 ${info.n}${isSim(e.code) ? ' · 模拟' : ''}`);
    g.addEventListener('click', () => focusEnterprise(e.code));
  }
}

function focusEnterprise(code) {
  const cards = [...document.querySelectorAll('#hs-grid .hs-card')]
    .filter((c) => c.dataset.hs.startsWith(`${code}/`));
  for (const c of document.querySelectorAll('#hs-grid .hs-card')) {
    c.classList.toggle('focus', cards.includes(c));
  }
  if (cards[0]) cards[0].scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

// --- live alarm list -------------------------------------------------------------------------

function fromApi(a) {
  return { ...a, shelved_until: a.shelved ? a.shelved.until : null,
    suppressed: !!a.suppressed, out_of_service: !!a.out_of_service };
}

async function loadAlarms() {
  const items = [];
  let cursor = null;
  do {
    const page = await api.get('/alarms', { open: true, limit: 500, cursor });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < 2000);
  st.alarms = new Map(items.map((a) => [a.id, fromApi(a)]));
  for (const a of items) if (a.simulated) st.simulated.add(a.enterprise);
  renderAlarms();
}

function onStreamEvent(name, e) {
  if (name === 'overflow') { loadAlarms().catch((err) => failed(err, '加载报警')); return; }
  if (name !== 'alarm') return;
  if (e.simulated) st.simulated.add(e.enterprise);
  if (!e.open) st.alarms.delete(e.id);
  else st.alarms.set(e.id, { ...(st.alarms.get(e.id) || {}), ...e, fresh: e.event === 'raised' });
  renderAlarms();
  refreshRegistry();
  if (st.view === 'sensor' && st.sensor && e.tag === st.sensor.tag) loadSensorAlarms();
}

$('#only-unack').addEventListener('change', renderAlarms);

function renderAlarms() {
  const onlyUnack = $('#only-unack').checked;
  const all = [...st.alarms.values()];
  const list = all.filter((a) => matches(a.region, a.tier) && (!onlyUnack || !a.acked));
  list.sort((a, b) => (b.raised_at || '').localeCompare(a.raised_at || '') || b.id.localeCompare(a.id));
  const unack = all.filter((a) => !a.acked).length;
  $('#alarm-count').textContent = `未关闭 ${all.length} · 未确认 ${unack}`;
  $('#alarm-list').replaceChildren(...list.slice(0, MAX_LISTED).map(alarmItem));
  for (const a of list) a.fresh = false; // highlight a new alarm once, not at each render
  $('#alarm-empty').hidden = list.length > 0;
}

function alarmItem(a) {
  const shelved = !!a.shelved_until;
  const li = h('li', {
    class: `alarm p-${a.priority} st-${a.state}${a.fresh ? ' fresh' : ''}${shelved ? ' shelved' : ''}`,
    dataset: { id: a.id, state: a.state },
  },
  h('div', { class: 'a-head' },
    h('span', { class: `prio p-${a.priority}` }, PRIORITY[a.priority] || a.priority),
    h('span', { class: 'a-state' }, STATE[a.state] || a.state),
    shelved && h('span', { class: 'a-flag' }, `已搁置至 ${time(a.shelved_until)}`),
    a.suppressed && h('span', { class: 'a-flag' }, '已屏蔽'),
    a.out_of_service && h('span', { class: 'a-flag' }, '停用'),
    a.simulated && simBadge(),
    h('time', { datetime: a.raised_at || '' }, time(a.raised_at))),
  h('div', { class: 'a-msg' }, a.message),
  h('div', { class: 'a-meta' }, `${entName(a.enterprise)} · `,
    h('a', { href: '#', class: 'a-tag', onclick: (ev) => { ev.preventDefault();
      openSensor(a.enterprise, a.hazard_source, a.tag); } }, a.tag || a.hazard_source),
    ` · ${ruleLabel(a.rule)} · ${tierLabel(a.tier)}`),
  h('div', { class: 'a-actions' },
    !a.acked && h('button', { type: 'button', class: 'act-ack', onclick: () => ack(a) }, '确认'),
    shelved
      ? h('button', { type: 'button', class: 'act-unshelve ghost', onclick: () => unshelve(a) }, '解除搁置')
      : h('button', { type: 'button', class: 'act-shelve ghost', onclick: () => openShelve(a) }, '搁置'),
    h('button', { type: 'button', class: 'act-comment ghost', onclick: () => openComment(a) }, '备注')));
  return li;
}

function applyResult(a) {
  if (!a.open) st.alarms.delete(a.id);
  else st.alarms.set(a.id, fromApi(a));
  renderAlarms();
  refreshRegistry();
}

async function ack(a) {
  try {
    applyResult(await api.post(`/alarms/${encodeURIComponent(a.id)}/ack`, { note: '' }));
    toast('已确认');
  } catch (e) { failed(e, '确认'); }
}

async function unshelve(a) {
  try {
    applyResult(await api.post(`/alarms/${encodeURIComponent(a.id)}/unshelve`, { reason: '' }));
    toast('已解除搁置');
  } catch (e) { failed(e, '解除搁置'); }
}

let dialogAlarm = null;

function openShelve(a) {
  dialogAlarm = a;
  $('#shelve-msg').textContent = a.message;
  $('#shelve-error').textContent = '';
  $('#shelve-reason').value = '';
  $('#shelve-dlg').showModal();
}

function openComment(a) {
  dialogAlarm = a;
  $('#comment-msg').textContent = a.message;
  $('#comment-error').textContent = '';
  $('#comment-text').value = '';
  $('#comment-dlg').showModal();
}

for (const b of document.querySelectorAll('[data-close]')) {
  b.addEventListener('click', () => b.closest('dialog').close());
}

$('#shelve-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const minutes = Number($('#shelve-minutes').value);
  const reason = $('#shelve-reason').value.trim();
  try {
    applyResult(await api.post(`/alarms/${encodeURIComponent(dialogAlarm.id)}/shelve`,
      { minutes, reason }));
    $('#shelve-dlg').close();
    toast(`已搁置 ${minutes} 分钟`);
  } catch (e) {
    if (e instanceof api.Unauthorized) failed(e, '搁置');
    else $('#shelve-error').textContent = e.message;
  }
});

$('#comment-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('#comment-text').value.trim();
  try {
    applyResult(await api.post(`/alarms/${encodeURIComponent(dialogAlarm.id)}/comments`, { text }));
    $('#comment-dlg').close();
    toast('备注已保存');
  } catch (e) {
    if (e instanceof api.Unauthorized) failed(e, '备注');
    else $('#comment-error').textContent = e.message;
  }
});

// --- sensor view -----------------------------------------------------------------------------

const EVERY = [['5s', 5e3], ['10s', 10e3], ['15s', 15e3], ['30s', 30e3], ['1m', 60e3],
  ['2m', 120e3], ['5m', 300e3], ['10m', 600e3], ['15m', 900e3], ['30m', 1800e3],
  ['1h', 3600e3], ['2h', 7200e3]];

/** The bucket length giving at most ~240 points over the range. */
const everyFor = (range) => EVERY.find(([, ms]) => range / ms <= 240) || EVERY[EVERY.length - 1];

async function openSensor(enterprise, hazardSource, tag) {
  st.sensor = { enterprise, hazardSource, tag: tag || null, sensors: [] };
  show('sensor');
  const hs = st.hazardSources.find((x) => x.enterprise === enterprise && x.code === hazardSource);
  $('#sv-title').textContent = hs
    ? `${hs.name}（${hs.code}）· ${hs.enterprise_name}` : `${hazardSource} · ${entName(enterprise)}`;
  $('#sv-title').prepend(tierBadge(hs && hs.tier), ' ');
  try {
    const page = await api.get('/sensors', { enterprise, hazard_source: hazardSource, limit: 500 });
    st.sensor.sensors = page.items;
    if (!st.sensor.tag || !page.items.some((x) => x.tag === st.sensor.tag)) {
      const worst = page.items.filter((x) => x.worst_alarm)
        .sort((a, b) => PRIORITY_RANK[a.worst_alarm.priority] - PRIORITY_RANK[b.worst_alarm.priority]);
      st.sensor.tag = (worst[0] || page.items[0] || {}).tag || null;
    }
    renderChips();
    await loadSensor();
  } catch (e) { failed(e, '加载传感器'); }
}

function renderChips() {
  const cur = st.sensor;
  $('#sv-sensors').replaceChildren(...cur.sensors.map((x) => h('button', {
    type: 'button', class: `chip p-${prioOf(x.worst_alarm)}${x.tag === cur.tag ? ' active' : ''}`,
    dataset: { tag: x.tag },
    onclick: () => { cur.tag = x.tag; renderChips(); loadSensor(); },
  }, h('b', {}, KIND[x.kind] || x.kind), ` ${x.name || x.tag}`,
  h('span', { class: 'chip-val' }, x.last ? ` ${num(x.last.value)} ${x.unit}` : ' —'))));
}

for (const b of document.querySelectorAll('#sv-ranges button')) {
  b.addEventListener('click', () => {
    st.range = Number(b.dataset.range);
    for (const o of document.querySelectorAll('#sv-ranges button')) o.classList.toggle('active', o === b);
    if (st.sensor) loadSensor();
  });
}

async function loadSensor() {
  const cur = st.sensor;
  const sensor = cur.sensors.find((x) => x.tag === cur.tag);
  if (!sensor) { $('#sv-info').textContent = '该危险源无传感器'; return; }
  const lim = sensor.limits || {};
  $('#sv-info').replaceChildren(
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
  const to = Date.now();
  const from = to - st.range;
  const [every, everyMs] = everyFor(st.range);
  const params = { enterprise: cur.enterprise, tag: cur.tag, from: new Date(from).toISOString(),
    to: new Date(to).toISOString(), every };
  const history = loadSensorAlarms();
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
    if (e instanceof api.Unauthorized) { failed(e, '加载趋势'); return; }
    error = e.status === 503 ? '历史数据库暂不可用' : e.message;
  }
  if (simulated) st.simulated.add(cur.enterprise);
  $('#sv-sim').hidden = !(simulated || isSim(cur.enterprise));
  const alarms = (await history).map((a) => ({ t: Date.parse(a.raised_at), priority: a.priority }));
  if (cur !== st.sensor || sensor.tag !== cur.tag) return; // the officer moved on
  const points = (series ? series.buckets : []).map((b) => ({
    t: Date.parse(b.ts) + everyMs / 2, mean: b.mean, min: b.min, max: b.max }));
  drawTrend($('#trend'), { points, from, to, every: everyMs, limits: lim, unit: sensor.unit, alarms });
  if (error) s('text', { x: 480, y: 190, class: 'empty' }, $('#trend'), error);
}

async function loadSensorAlarms() {
  const cur = st.sensor;
  if (!cur || !cur.tag) return [];
  try {
    const page = await api.get('/alarms', { enterprise: cur.enterprise, tag: cur.tag, limit: 50 });
    $('#sv-history tbody').replaceChildren(...page.items.map((a) => h('tr', { class: `p-${a.priority}` },
      h('td', {}, time(a.raised_at)),
      h('td', {}, h('span', { class: `prio p-${a.priority}` }, PRIORITY[a.priority])),
      h('td', {}, ruleLabel(a.rule)),
      h('td', {}, a.message, a.simulated && simBadge()),
      h('td', {}, a.open ? STATE[a.state] : '已关闭'),
      h('td', {}, a.acked_by ? `${a.acked_by}（${time(a.acked_at)}）` : '—'),
      h('td', {}, time(a.cleared_at)))));
    if (!page.items.length) {
      $('#sv-history tbody').append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, '无报警记录')));
    }
    return page.items;
  } catch (e) {
    failed(e, '加载报警历史');
    return [];
  }
}

// --- KPIs ------------------------------------------------------------------------------------

for (const b of document.querySelectorAll('#kpi-ranges button')) {
  b.addEventListener('click', () => {
    st.kpiRange = Number(b.dataset.range);
    for (const o of document.querySelectorAll('#kpi-ranges button')) o.classList.toggle('active', o === b);
    loadKpis().catch((e) => failed(e, '加载绩效'));
  });
}

function card(label, value, note, level = '') {
  return h('div', { class: `card ${level}` }, h('div', { class: 'card-label' }, label),
    h('div', { class: 'card-value' }, value), note && h('div', { class: 'card-note' }, note));
}

const level = (v, ok, warn) => (v <= ok ? 'ok' : v <= warn ? 'warn' : 'bad');

async function loadKpis() {
  const to = Date.now();
  const f = st.filters;
  const k = await api.get('/kpis', { from: new Date(to - st.kpiRange).toISOString(),
    to: new Date(to).toISOString(), region: f.region, tier: f.tier });
  const filtered = [f.region && `地区 ${f.region}`, f.tier && tierLabel(Number(f.tier))].filter(Boolean);
  $('#kpi-period').textContent = `${time(k.since)} 至 ${time(k.until)}`
    + (filtered.length ? `（筛选：${filtered.join(' · ')}）` : '');
  const hours = (Date.parse(k.until) - Date.parse(k.since)) / 3600e3;
  const r = k.alarms_per_10min;
  const fl = k.flood;
  const t = k.time_to_ack;
  const d = k.data_availability;
  $('#kpi-cards').replaceChildren(
    card('报警激活数', k.activations, `平均每小时 ${num(k.activations / hours)}`),
    card('平均报警率', `${num(r.average)} /10分钟`, 'EEMUA 191：≤1 可接受，≤2 可管理',
      level(r.average, 1, 2)),
    card('10分钟峰值', r.peak, `>10 即为报警泛滥 · 泛滥时段 ${fl.windows}/${r.windows}`,
      level(r.peak, 10, 10)),
    card('泛滥时间占比', `${num(fl.time_in_flood_pct)} %`, `报警泛滥 ${fl.floods.length} 次 · 目标 <1 %`,
      level(fl.time_in_flood_pct, 1, 5)),
    card('确认时间（中位数）', duration(t.median_s), `P90 ${duration(t.p90_s)} · 未确认 ${t.unacknowledged}`,
      t.median_s == null ? '' : level(t.median_s, 300, 900)),
    card('颤振报警', k.chattering.length, '60秒内激活 ≥3 次', level(k.chattering.length, 0, 2)),
    card('陈旧报警', k.stale.length, '持续激活超过 24 小时', level(k.stale.length, 0, 5)),
    card('数据可用率', d.pct == null ? '—' : `${num(d.pct)} %`,
      `${d.reporting} / ${d.sensors} 个传感器统计期内有数据`, d.pct == null ? '' : level(100 - d.pct, 2, 10)),
  );
  renderMix(k.priority, k.activations);
  $('#kpi-bad tbody').replaceChildren(...k.bad_actors.slice(0, 5).map((b) => h('tr', {},
    h('td', {}, entName(b.enterprise)),
    h('td', {}, b.subject, b.max_in_60s >= 3 && h('span', { class: 'chatter', title: '60秒内激活 ≥3 次' }, '颤振')),
    h('td', {}, ruleLabel(b.rule)), h('td', {}, b.activations), h('td', {}, `${num(b.share_pct)} %`))));
  if (!k.bad_actors.length) {
    $('#kpi-bad tbody').append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, '无')));
  }
  renderAvailability(k.by_enterprise);
}

// EEMUA 191's three levels against hazmon's four priorities
const MIX_GROUPS = [
  ['critical', ['critical']], ['high', ['high']], ['medium+low', ['medium', 'low']],
];

function renderMix(p, total) {
  const svg = $('#kpi-mix');
  svg.replaceChildren();
  svg.setAttribute('viewBox', '0 0 600 70');
  let x = 0;
  const order = ['critical', 'high', 'medium', 'low'];
  if (!total) s('rect', { x: 0, y: 4, width: 600, height: 36, class: 'mix-empty' }, svg);
  for (const pr of order) {
    const w = (p.pct[pr] / 100) * 600;
    if (w <= 0) continue;
    s('rect', { x, y: 4, width: w, height: 36, class: `mixseg p-${pr}` }, svg);
    if (w > 40) s('text', { x: x + w / 2, y: 27, class: 'seg-label' }, svg, `${num(p.pct[pr])}%`);
    x += w;
  }
  // the guideline underneath, in the same colours
  x = 0;
  for (const [g, prs] of MIX_GROUPS) {
    const w = (p.guideline_pct[g] / 100) * 600;
    s('rect', { x, y: 46, width: w, height: 20, class: `mixseg goal p-${prs[0]}` }, svg);
    if (w > 40) s('text', { x: x + w / 2, y: 61, class: 'seg-label goal-label' }, svg, `目标 ${num(p.guideline_pct[g])}%`);
    x += w;
  }
  $('#kpi-mix-legend').replaceChildren(...MIX_GROUPS.map(([g, prs]) => {
    const n = prs.reduce((a, pr) => a + p.counts[pr], 0);
    const pct = total ? Math.round((10000 * n) / total) / 100 : 0;
    const goal = p.guideline_pct[g];
    const off = total > 0 && (g === 'medium+low' ? pct < goal / 2 : pct > goal * 2);
    return h('span', { class: off ? 'off' : '', dataset: { group: g } },
      h('i', { class: `p-${prs[0]}` }),
      `${prs.map((pr) => `${PRIORITY[pr]} ${p.counts[pr]}`).join(' · ')}（${num(pct)}%，目标≈${num(goal)}%）`);
  }));
}

/** Per enterprise: registry sensors whose last reading falls in the period (the report's). */
function renderAvailability(byEnterprise) {
  const rows = Object.entries(byEnterprise).map(([code, fig]) => ({
    code, e: st.enterprises.get(code), d: fig.data_availability,
  }));
  rows.sort((a, b) => ((a.e || {}).region || '').localeCompare((b.e || {}).region || '')
    || a.code.localeCompare(b.code));
  $('#kpi-avail tbody').replaceChildren(...rows.map(({ code, e, d }) => {
    const pct = d.pct;
    const lvl = pct == null ? '' : level(100 - pct, 2, 10);
    const gw = e ? e.gateway.state : 'unknown';
    return h('tr', { dataset: { enterprise: code } },
      h('td', {}, entName(code), isSim(code) && simBadge()), h('td', {}, e ? e.region : '—'),
      h('td', {}, h('span', { class: `gw gw-${gw}` }, GATEWAY[gw])),
      h('td', {}, `${d.reporting} / ${d.sensors}`),
      h('td', { class: `avail ${lvl}` }, pct == null ? '—' : `${pct.toFixed(1)} %`),
      h('td', { class: 'bar-cell' }, pct == null ? ''
        : h('span', { class: `bar ${lvl}`, title: `${pct.toFixed(1)} %` },
          h('span', { class: 'bar-fill', dataset: { pct: pct.toFixed(0) } }))));
  }));
  // widths through the CSSOM: the CSP allows no inline style attributes
  for (const f of document.querySelectorAll('#kpi-avail .bar-fill')) f.style.width = `${f.dataset.pct}%`;
  if (!rows.length) $('#kpi-avail tbody').append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, '无企业')));
}

// --- start -----------------------------------------------------------------------------------

tick();
setInterval(tick, 1000);
setConn('stopped');
if (api.token.get()) {
  start().catch((e) => {
    if (e instanceof api.Unauthorized) logout('令牌无效或已被吊销，请重新登录');
    else showLogin(`无法连接服务：${e.message || e}`);
  });
} else {
  showLogin();
}
