// 报警绩效: the alarm-system KPIs of GET /kpis over a chosen period (EEMUA 191 / ISA-18.2
// figures), the priority mix against its guideline, bad actors and data availability per
// enterprise. Reloaded every minute while shown. The 含模拟数据 switch decides whether the
// simulated plants' alarms and sensors are counted (GET /kpis include_simulated).

import * as api from '../api.js';
import { GATEWAY, PRIORITY, duration, h, num, ruleLabel, s, tierLabel, time } from '../fmt.js';
import { $, $$, markup, rangeSwitch, simBadge } from '../ui.js';

const MARKUP = `
<div class="toolbar">
  <h2>报警系统绩效</h2>
  <span id="kpi-period" class="muted"></span>
  <span class="spacer"></span>
  <label class="switch" title="模拟企业的报警与传感器是否计入以下指标">
    <input type="checkbox" id="kpi-sim" role="switch"><span class="knob"></span>含模拟数据</label>
  <span id="kpi-ranges" class="seg">
    <button type="button" data-range="3600000">1小时</button>
    <button type="button" data-range="86400000">24小时</button>
    <button type="button" data-range="604800000">7天</button>
  </span>
</div>
<p id="kpi-sim-note" class="sim-note" hidden></p>
<div id="kpi-cards" class="cards"></div>
<div class="kpi-row">
  <section class="panel">
    <h3>优先级构成 <small class="muted">目标 紧急≈5% 高≈15% 中/低≈80%</small></h3>
    <svg id="kpi-mix" class="mix" role="img" aria-label="优先级构成"></svg>
    <div id="kpi-mix-legend" class="mix-legend"></div>
  </section>
  <section class="panel">
    <h3>频发报警（前5）</h3>
    <table class="table" id="kpi-bad"><thead><tr><th>企业</th><th>位号/危险源</th>
      <th>类型</th><th>激活次数</th><th>占比</th></tr></thead><tbody></tbody></table>
  </section>
</div>
<section class="panel">
  <h3>数据可用率（统计期内，按企业） <small class="muted">统计期内有数据的传感器 / 登记的传感器</small></h3>
  <table class="table" id="kpi-avail"><thead><tr><th>企业</th><th>地区</th>
    <th>网关</th><th>有数据 / 传感器</th><th>可用率</th><th></th></tr></thead><tbody></tbody></table>
</section>`;

const REFRESH_MS = 60000;

let range = 86400e3;
// 含模拟数据: null until the officer flips the switch (the report's default applies: on
// only when every enterprise in scope is simulated), then the choice, kept across views
let includeSim = null;
let root = null;
let timer = 0;

function card(label, value, note, lvl = '') {
  return h('div', { class: `card ${lvl}` }, h('div', { class: 'card-label' }, label),
    h('div', { class: 'card-value' }, value), note && h('div', { class: 'card-note' }, note));
}

const level = (v, ok, warn) => (v <= ok ? 'ok' : v <= warn ? 'warn' : 'bad');

async function load(ctx) {
  const to = Date.now();
  const f = ctx.state.filters;
  const k = await api.get('/kpis', { from: new Date(to - range).toISOString(),
    to: new Date(to).toISOString(), region: f.region, tier: f.tier,
    include_simulated: includeSim == null ? undefined : String(includeSim) });
  if (!root) return; // left while loading
  renderSimulated(k);
  const filtered = [f.region && `地区 ${ctx.state.regionName(f.region)}`, f.tier && tierLabel(Number(f.tier))].filter(Boolean);
  $('#kpi-period', root).textContent = `${time(k.since)} 至 ${time(k.until)}`
    + (filtered.length ? `（筛选：${filtered.join(' · ')}）` : '');
  const hours = (Date.parse(k.until) - Date.parse(k.since)) / 3600e3;
  const r = k.alarms_per_10min;
  const fl = k.flood;
  const t = k.time_to_ack;
  const d = k.data_availability;
  $('#kpi-cards', root).replaceChildren(
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
  const bad = $('#kpi-bad tbody', root);
  bad.replaceChildren(...k.bad_actors.slice(0, 5).map((b) => h('tr', {},
    h('td', {}, ctx.state.entName(b.enterprise)),
    h('td', {}, b.subject, b.max_in_60s >= 3 && h('span', { class: 'chatter', title: '60秒内激活 ≥3 次' }, '颤振')),
    h('td', {}, ruleLabel(b.rule)), h('td', {}, b.activations), h('td', {}, `${num(b.share_pct)} %`))));
  if (!k.bad_actors.length) bad.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, '无')));
  renderAvailability(ctx.state, k.by_enterprise);
}

/** The switch shows what the report applied; the note says what simulated data it left out. */
function renderSimulated(k) {
  const sd = k.simulated_data;
  $('#kpi-sim', root).checked = k.include_simulated;
  const note = $('#kpi-sim-note', root);
  note.hidden = !sd.enterprises;
  note.classList.toggle('excluded', !k.include_simulated);
  note.textContent = k.include_simulated
    ? `已计入模拟数据：辖区 ${sd.enterprises_in_scope} 家企业中 ${sd.enterprises} 家为模拟企业，其报警和传感器计入以下指标。`
    : `未计入模拟数据：已排除模拟企业 ${sd.enterprises} 家的报警激活 ${sd.excluded_activations} 次、`
      + `传感器 ${sd.excluded_sensors} 个。打开“含模拟数据”可计入。`;
}

// EEMUA 191's three levels against hazmon's four priorities
const MIX_GROUPS = [
  ['critical', ['critical']], ['high', ['high']], ['medium+low', ['medium', 'low']],
];

function renderMix(p, total) {
  const svg = $('#kpi-mix', root);
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
  $('#kpi-mix-legend', root).replaceChildren(...MIX_GROUPS.map(([g, prs]) => {
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
function renderAvailability(state, byEnterprise) {
  const rows = Object.entries(byEnterprise).map(([code, fig]) => ({
    code, e: state.enterprises.get(code), d: fig.data_availability,
  }));
  rows.sort((a, b) => ((a.e || {}).region || '').localeCompare((b.e || {}).region || '')
    || a.code.localeCompare(b.code));
  const body = $('#kpi-avail tbody', root);
  body.replaceChildren(...rows.map(({ code, e, d }) => {
    const pct = d.pct;
    const lvl = pct == null ? '' : level(100 - pct, 2, 10);
    const gw = e ? e.gateway.state : 'unknown';
    return h('tr', { dataset: { enterprise: code } },
      h('td', {}, state.entName(code), state.isSim(code) && simBadge()), h('td', {}, e ? state.regionName(e.region) : '—'),
      h('td', {}, h('span', { class: `gw gw-${gw}` }, GATEWAY[gw])),
      h('td', {}, `${d.reporting} / ${d.sensors}`),
      h('td', { class: `avail ${lvl}` }, pct == null ? '—' : `${pct.toFixed(1)} %`),
      h('td', { class: 'bar-cell' }, pct == null ? ''
        : h('span', { class: `bar ${lvl}`, title: `${pct.toFixed(1)} %` },
          h('span', { class: 'bar-fill', dataset: { pct: pct.toFixed(0) } }))));
  }));
  // widths through the CSSOM: the CSP allows no inline style attributes
  for (const f of $$('.bar-fill', body)) f.style.width = `${f.dataset.pct}%`;
  if (!rows.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, '无企业')));
}

export default {
  id: 'kpi',
  title: '报警绩效',
  mount(el, ctx) {
    root = el;
    el.append(markup(MARKUP));
    const reload = (what) => load(ctx).catch((e) => ctx.failed(e, what));
    rangeSwitch($('#kpi-ranges', el), range, (ms) => { range = ms; reload('加载绩效'); });
    $('#kpi-sim', el).addEventListener('change', (ev) => {
      includeSim = ev.target.checked;
      reload('加载绩效');
    });
    reload('加载绩效');
    timer = setInterval(() => reload('刷新绩效'), REFRESH_MS);
  },
  update() {}, // its figures come from the report alone; the minute timer refreshes them
  unmount() {
    clearInterval(timer);
    root = null;
  },
};
