// 预警: the graded warnings of the caller's scope (GET /warnings: open first, overdue first,
// gravest first) with a level/state/overdue filter, and one warning's detail (reasons,
// history, pushes). A regulator reviews it here (通过消警 / 退回 with a reason) and records
// the 现场核查; an enterprise user files the 处置反馈, each invalid field's Chinese message
// shown beside its input. Labels come from GET /warnings/labels. Reloaded every 30 s.
// 下载通报 / 导出 CSV: the report (GET /warnings/report) of the period chosen.

import * as api from '../api.js';
import { h, time } from '../fmt.js';
import { $, $$, markup, simBadge } from '../ui.js';

const MARKUP = `
<div class="toolbar">
  <h2>预警处置</h2>
  <select id="wn-level" aria-label="预警等级"><option value="">全部等级</option></select>
  <select id="wn-state" aria-label="状态"><option value="">未消警</option>
    <option value="all">全部（含已消警）</option></select>
  <label><input type="checkbox" id="wn-overdue"> 仅逾期</label>
  <span class="spacer"></span>
  <span id="wn-count" class="muted"></span>
  <span class="wn-report" role="group" aria-label="通报">
    <select id="wn-period" aria-label="通报周期"><option value="day">日报</option>
      <option value="week">周报</option><option value="month">月报</option></select>
    <button type="button" class="ghost" id="wn-report-html">下载通报</button>
    <button type="button" class="ghost" id="wn-report-csv">导出 CSV</button>
  </span>
</div>
<section class="panel">
  <table class="table" id="wn-list"><thead><tr><th>等级</th><th>企业 / 对象</th><th>原因</th>
    <th>状态</th><th>反馈时限</th><th>审核</th></tr></thead><tbody></tbody></table>
</section>
<section class="panel" id="wn-detail" hidden>
  <h3 id="wn-title"></h3>
  <p id="wn-summary" class="muted"></p>
  <ul id="wn-reasons" class="wn-reasons"></ul>
  <div id="wn-feedback-shown"></div>
  <form id="wn-feedback" class="wn-form" hidden novalidate>
    <h3>处置反馈</h3>
    <label>原因类别 <select name="cause"></select><span class="error" data-for="cause"></span></label>
    <label>原因说明 <input name="cause_detail" maxlength="2000"><span class="error" data-for="cause_detail"></span></label>
    <label>处置措施 <textarea name="measures" rows="3" maxlength="2000"></textarea><span class="error" data-for="measures"></span></label>
    <label>处置人 <input name="person" maxlength="64"><span class="error" data-for="person"></span></label>
    <label>联系电话 <input name="phone" maxlength="24"><span class="error" data-for="phone"></span></label>
    <label>处置时间 <input name="handled_at" type="datetime-local"><span class="error" data-for="handled_at"></span></label>
    <label class="wn-check"><input name="cause_removed" type="checkbox"> 原因已消除</label>
    <p class="error" id="wn-feedback-error"></p>
    <div class="dlg-actions"><button type="submit">提交处置反馈</button></div>
  </form>
  <form id="wn-review" class="wn-form" hidden>
    <h3>审核处置反馈</h3>
    <label>审核意见 / 退回原因 <textarea name="text" rows="2" maxlength="2000"></textarea></label>
    <p class="error" id="wn-review-error"></p>
    <div class="dlg-actions">
      <button type="button" class="ghost" id="wn-return">退回重新反馈</button>
      <button type="button" id="wn-accept">审核通过（消警）</button>
    </div>
  </form>
  <form id="wn-onsite" class="wn-form" hidden>
    <h3>现场核查</h3>
    <label>核查情况 <textarea name="findings" rows="2" maxlength="2000"></textarea></label>
    <label>核查人员（以逗号分隔） <input name="inspectors" maxlength="400"></label>
    <p class="error" id="wn-onsite-error"></p>
    <div class="dlg-actions"><button type="submit">登记现场核查</button></div>
  </form>
  <h3>处置记录</h3>
  <ol id="wn-history" class="wn-history"></ol>
  <p id="wn-pushes" class="muted"></p>
</section>`;

const REFRESH_MS = 30000;
const REGULATOR = new Set(['county', 'city', 'province']);

let root = null;
let timer = 0;
let labels = null; // GET /warnings/labels
let selected = null; // the id of the warning shown in detail
const filter = { level: '', state: '', overdue: false };

const levelBadge = (w) => h('span', { class: `wn-level wn-${w.level}` }, w.level_label);

async function loadList(ctx) {
  const params = { level: filter.level || undefined, overdue: filter.overdue ? 'true' : undefined,
    open: filter.state === 'all' ? undefined : 'true', limit: 200 };
  const page = await api.get('/warnings', params);
  if (!root) return;
  $('#wn-count', root).textContent = `共 ${page.total} 条`;
  const body = $('#wn-list tbody', root);
  body.replaceChildren(...page.items.map((w) => h('tr', {
    class: `wn-row${w.id === selected ? ' selected' : ''}${w.overdue ? ' overdue' : ''}`,
    dataset: { id: w.id, level: w.level }, onclick: () => showDetail(ctx, w.id),
  },
  h('td', {}, levelBadge(w)),
  h('td', {}, w.enterprise_name, w.hazard_source ? ` · ${w.name}` : ' · 企业整体', w.simulated && simBadge()),
  h('td', {}, (w.reasons[0] || {}).text || '—', w.reasons.length > 1 ? ` 等${w.reasons.length}项` : ''),
  h('td', {}, w.state_label, w.overdue && h('span', { class: 'wn-overdue' }, '逾期')),
  h('td', {}, time(w.deadline)),
  h('td', {}, w.reviewer_label))));
  if (!page.items.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, '无预警')));
}

async function showDetail(ctx, id) {
  selected = id;
  for (const tr of $$('#wn-list tbody tr', root)) tr.classList.toggle('selected', tr.dataset.id === id);
  const w = await api.get(`/warnings/${encodeURIComponent(id)}`);
  if (!root || selected !== id) return;
  $('#wn-detail', root).hidden = false;
  $('#wn-title', root).replaceChildren(levelBadge(w), ` ${w.enterprise_name}`,
    w.hazard_source ? ` · ${w.name}` : ' · 企业整体', ...(w.simulated ? [simBadge()] : []));
  $('#wn-summary', root).textContent = `状态：${w.state_label}${w.overdue ? '（已逾期）' : ''} · `
    + `生成 ${time(w.opened_at)} · 反馈时限 ${time(w.deadline)} · 审核：${w.reviewer_label}`
    + (w.needs_onsite_check ? ' · 消警前须现场核查' : '');
  $('#wn-reasons', root).replaceChildren(...w.reasons.map((r) => h('li', {},
    h('span', { class: `wn-level wn-${r.level}` }, r.level_label), ` ${r.text}`)));
  const fb = w.feedback;
  $('#wn-feedback-shown', root).replaceChildren(fb ? h('p', { class: 'wn-fb' },
    `处置反馈：${fb.cause_label}${fb.cause_detail ? `（${fb.cause_detail}）` : ''}；${fb.measures}；`
    + `${fb.person} ${fb.phone}；${fb.cause_removed ? '原因已消除' : '原因未消除'}`) : '');
  const role = (ctx.state.principal || {}).role;
  const regulator = REGULATOR.has(role);
  $('#wn-feedback', root).hidden = regulator || !['open', 'returned'].includes(w.state);
  $('#wn-review', root).hidden = !regulator || w.state !== 'feedback_filed';
  $('#wn-onsite', root).hidden = !regulator || !w.open;
  for (const e of $$('.wn-form .error', root)) e.textContent = '';
  $('#wn-history', root).replaceChildren(...w.history.map((e) => h('li', {},
    h('span', { class: 'muted' }, time(e.at)), ` ${e.event_label} · ${e.actor}`,
    e.data.reason ? `：${e.data.reason}` : '', e.data.findings ? `：${e.data.findings}` : '')));
  const sent = w.pushes.filter((p) => p.status === 'sent').length;
  $('#wn-pushes', root).textContent = `推送 ${w.pushes.length} 条，已送达 ${sent} 条`;
}

/** A step's POST; on success the list and the detail reload, a refusal shows in `errorEl`. */
async function act(ctx, path, body, errorEl, done) {
  errorEl.textContent = '';
  try {
    await api.post(`/warnings/${encodeURIComponent(selected)}/${path}`, body);
  } catch (e) {
    if (e instanceof api.Unauthorized) { ctx.failed(e, done); return false; }
    errorEl.textContent = (e.body && (e.body.reason || e.body.message)) || e.message;
    return e.body || {};
  }
  ctx.toast(done);
  await Promise.all([loadList(ctx), showDetail(ctx, selected)]);
  return true;
}

function wireForms(ctx) {
  const fb = $('#wn-feedback', root);
  fb.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = fb.elements;
    const local = f.handled_at.value; // the officer's local time: sent with its offset
    const handled = local ? new Date(local) : null;
    const body = { cause: f.cause.value, cause_detail: f.cause_detail.value, measures: f.measures.value,
      person: f.person.value, phone: f.phone.value, cause_removed: f.cause_removed.checked,
      handled_at: handled && !Number.isNaN(handled.getTime()) ? isoWithOffset(handled) : '' };
    for (const e of $$('.error[data-for]', fb)) e.textContent = '';
    const r = await act(ctx, 'feedback', body, $('#wn-feedback-error', root), '处置反馈已提交');
    if (r && r.problems) {
      for (const [field, msg] of Object.entries(r.problems)) {
        const slot = $(`.error[data-for="${field}"]`, fb);
        if (slot) slot.textContent = msg;
      }
    }
  });
  const review = $('#wn-review', root);
  $('#wn-accept', root).addEventListener('click', () => act(ctx, 'review',
    { decision: 'accept', note: review.elements.text.value }, $('#wn-review-error', root), '已审核通过，预警已消警'));
  $('#wn-return', root).addEventListener('click', () => act(ctx, 'review',
    { decision: 'return', reason: review.elements.text.value }, $('#wn-review-error', root), '已退回企业重新反馈'));
  const onsite = $('#wn-onsite', root);
  onsite.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const inspectors = onsite.elements.inspectors.value.split(/[,，、]/).map((x) => x.trim()).filter(Boolean);
    act(ctx, 'onsite-check', { findings: onsite.elements.findings.value, inspectors },
      $('#wn-onsite-error', root), '现场核查已登记');
  });
}

/** 2026-11-22T10:05:00+08:00: a local time with the browser's offset. */
function isoWithOffset(d) {
  const pad = (n) => String(Math.abs(n)).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:`
    + `${pad(d.getMinutes())}:00${off >= 0 ? '+' : '-'}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
}

async function init(ctx) {
  labels = labels || await api.get('/warnings/labels');
  if (!root) return;
  $('#wn-level', root).append(...labels.levels.map((l) => h('option', { value: l.value }, l.label)));
  $('#wn-level', root).value = filter.level;
  $('#wn-state', root).value = filter.state;
  $('#wn-overdue', root).checked = filter.overdue;
  $('select[name=cause]', root).append(...labels.causes.map((c) => h('option', { value: c.value }, c.label)));
  await loadList(ctx);
  if (selected) await showDetail(ctx, selected).catch(() => { selected = null; });
}

/** The report (通报) of the caller's scope for the chosen period, as a file: the printable
 * page (opened from the downloads, it prints on A4) or the CSV. */
function downloadReport(ctx, format) {
  const period = $('#wn-period', root).value;
  const name = { day: '日报', week: '周报', month: '月报' }[period];
  return api.download('/warnings/report', { period, format, region: ctx.state.filters.region },
    `预警处置${name}.${format}`);
}

export default {
  id: 'warnings',
  title: '预警',
  mount(el, ctx) {
    root = el;
    el.append(markup(MARKUP));
    const reload = (what) => loadList(ctx).catch((e) => ctx.failed(e, what));
    for (const [id, key] of [['#wn-level', 'level'], ['#wn-state', 'state']]) {
      $(id, el).addEventListener('change', (ev) => { filter[key] = ev.target.value; reload('加载预警'); });
    }
    $('#wn-overdue', el).addEventListener('change', (ev) => { filter.overdue = ev.target.checked; reload('加载预警'); });
    wireForms(ctx);
    for (const format of ['html', 'csv']) {
      $(`#wn-report-${format}`, el).addEventListener('click',
        () => downloadReport(ctx, format).catch((e) => ctx.failed(e, '下载通报')));
    }
    init(ctx).catch((e) => ctx.failed(e, '加载预警'));
    timer = setInterval(() => reload('刷新预警'), REFRESH_MS);
  },
  update() {}, // warnings change on the server's rounds: the timer reloads them
  unmount() {
    clearInterval(timer);
    root = null;
  },
};
