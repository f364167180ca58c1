// 安全承诺: the day's commitments of the caller's region (GET /commitments/day: missing
// first, then major hidden danger, then start-up / shutdown / turnaround), its CSV, and for
// a plant token the form to file today's commitment (POST /enterprises/{code}/commitments).
// 值班点名 below: the day's roll calls; a regulator calls the roll of the region's plants
// (POST /roll-calls), the plant's on-duty person answers (POST /roll-calls/{id}/answer).
// A refused form shows each problem, in Chinese, beside its field (the answer's `problems`
// name the field by its path: "hazard_sources[0].reason"). Labels and the province's
// template come from GET /duties/labels.

import * as api from '../api.js';
import { h, time } from '../fmt.js';
import { $, $$, markup, simBadge } from '../ui.js';

const MARKUP = `
<div class="toolbar">
  <h2>今日安全承诺</h2>
  <span id="duty-day" class="muted"></span>
  <span class="spacer"></span>
  <span id="duty-counts" class="muted"></span>
  <button type="button" class="ghost" id="duty-csv">导出 CSV</button>
</div>
<section class="panel" id="duty-form-panel" hidden>
  <h3>填报今日安全承诺 <small class="muted" id="duty-deadline"></small></h3>
  <form id="duty-form" class="duty-form" novalidate></form>
</section>
<section class="panel">
  <h3>辖区承诺情况 <small class="muted">未填报在前，其次为存在重大隐患、开停车检修的企业</small></h3>
  <table class="table" id="duty-list"><thead><tr><th>企业</th><th class="wide">地区</th><th>状态</th>
    <th>填报时间</th><th class="wide">承诺人</th><th>重大隐患</th><th>开停车检修</th>
    <th class="wide">风险等级</th></tr></thead>
    <tbody></tbody></table>
</section>
<section class="panel">
  <div class="toolbar"><h3>值班点名</h3><span class="spacer"></span>
    <button type="button" id="rc-call" hidden>点名辖区企业</button>
    <button type="button" class="ghost" id="rc-reload">刷新</button></div>
  <table class="table" id="rc-list"><thead><tr><th>企业</th><th>点名时间</th>
    <th>应答截止</th><th>状态</th><th></th></tr></thead><tbody></tbody></table>
</section>`;

const REFRESH_MS = 30000;
const PLANT = new Set(['enterprise', 'simulator']);

let root = null;
let timer = 0;
let labels = null;

const field = (path, label, input) => h('label', { class: 'duty-field', dataset: { path } },
  h('span', {}, label), input, h('span', { class: 'field-error', dataset: { for: path } }));

const numberInput = (name, value = 0) => h('input', { type: 'number', min: 0, max: 999, step: 1,
  name, value });

function select(name, choices, value) {
  const el = h('select', { name }, ...Object.entries(choices).map(([v, t]) =>
    h('option', { value: v }, t)));
  el.value = value;
  return el;
}

function sourceRow(hs, i) {
  const at = `hazard_sources[${i}]`;
  return h('fieldset', { class: 'duty-source', dataset: { code: hs.code } },
    h('legend', {}, `${hs.name}（${hs.code}）`),
    field(`${at}.run_state`, labels.fields['hazard_sources.run_state'],
      select('run_state', labels.run_states, 'running')),
    field(`${at}.reason`, labels.fields['hazard_sources.reason'],
      h('input', { type: 'text', name: 'reason', maxlength: 200 })),
    field(`${at}.expected_end`, labels.fields['hazard_sources.expected_end'],
      h('input', { type: 'datetime-local', name: 'expected_end' })),
    field(`${at}.baobao_in_place`, labels.fields['hazard_sources.baobao_in_place'],
      h('input', { type: 'checkbox', name: 'baobao_in_place', checked: true })),
    field(`${at}.code`, '', h('span')));
}

function buildForm(ctx, form, ent) {
  const L = labels.fields;
  form.replaceChildren(
    h('div', { class: 'duty-grid' },
      field('units.total', L['units.total'], numberInput('units.total', ent.hazard_sources.length)),
      field('units.running', L['units.running'], numberInput('units.running', ent.hazard_sources.length)),
      field('units.stopped', L['units.stopped'], numberInput('units.stopped', 0))),
    h('h4', {}, L.special_works),
    h('div', { class: 'duty-grid' }, ...Object.entries(labels.special_works).map(([k, t]) =>
      field(`special_works.${k}`, t, numberInput(`special_works.${k}`)))),
    h('h4', {}, L.hazard_sources),
    h('div', { class: 'duty-sources' }, ...ent.hazard_sources.map(sourceRow)),
    field('hazard_sources', '', h('span')),
    h('div', { class: 'duty-grid' },
      field('major_hidden_danger', L.major_hidden_danger,
        h('input', { type: 'checkbox', name: 'major_hidden_danger' })),
      field('major_hidden_danger_note', L.major_hidden_danger_note,
        h('input', { type: 'text', name: 'major_hidden_danger_note', maxlength: 500 })),
      field('risk_grade', L.risk_grade, select('risk_grade', labels.risk_grades, 'general')),
      field('committer', L.committer, h('input', { type: 'text', name: 'committer', maxlength: 32 })),
      field('duty_leader.name', L['duty_leader.name'],
        h('input', { type: 'text', name: 'duty_leader.name', maxlength: 32 })),
      field('duty_leader.phone', L['duty_leader.phone'],
        h('input', { type: 'tel', name: 'duty_leader.phone', maxlength: 20 }))),
    h('p', { class: 'duty-template', id: 'duty-template' }, labels.template),
    field('confirmed', '本人已阅读并确认以上承诺内容',
      h('input', { type: 'checkbox', name: 'confirmed' })),
    field('day', '', h('span')),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', id: 'duty-submit' }, '提交承诺'),
      h('span', { class: 'muted', id: 'duty-form-note' })),
  );
  // the province's text as it will be filed, kept up to date as the committer is typed
  const text = () => {
    const [y, m, d] = labels.today.split('-').map(Number);
    $('#duty-template', form).textContent = labels.template
      .replace('{enterprise_name}', ent.name)
      .replace('{sources}', ent.hazard_sources.map((hs) => hs.name).join('、'))
      .replace('{committer}', val(form, 'committer').value.trim() || '＿＿')
      .replace('{date}', `${y}年${m}月${d}日`);
  };
  val(form, 'committer').addEventListener('input', text);
  text();
  form.onsubmit = (ev) => { ev.preventDefault(); submit(ctx, form, ent).catch((e) => ctx.failed(e, '提交承诺')); };
}

const val = (form, name) => form.querySelector(`[name="${name}"]`);
const intOf = (el) => (el.value === '' ? null : Number(el.value));

function formData(form) {
  const data = {
    day: labels.today,
    units: { total: intOf(val(form, 'units.total')), running: intOf(val(form, 'units.running')),
      stopped: intOf(val(form, 'units.stopped')) },
    special_works: Object.fromEntries(Object.keys(labels.special_works).map((k) =>
      [k, intOf(val(form, `special_works.${k}`))])),
    hazard_sources: $$('.duty-source', form).map((fs) => {
      const end = fs.querySelector('[name=expected_end]').value;
      const reason = fs.querySelector('[name=reason]').value.trim();
      return { code: fs.dataset.code, run_state: fs.querySelector('[name=run_state]').value,
        reason: reason || null, expected_end: end ? `${end}:00${labels.utc_offset}` : null,
        baobao_in_place: fs.querySelector('[name=baobao_in_place]').checked };
    }),
    major_hidden_danger: val(form, 'major_hidden_danger').checked,
    major_hidden_danger_note: val(form, 'major_hidden_danger_note').value.trim() || null,
    risk_grade: val(form, 'risk_grade').value,
    committer: val(form, 'committer').value.trim(),
    duty_leader: { name: val(form, 'duty_leader.name').value.trim(),
      phone: val(form, 'duty_leader.phone').value.trim() },
    confirmed: val(form, 'confirmed').checked,
  };
  return data;
}

function showProblems(form, problems) {
  for (const el of $$('.field-error', form)) el.textContent = '';
  for (const el of $$('.duty-field', form)) el.classList.remove('bad');
  for (const p of problems) {
    const slot = form.querySelector(`.field-error[data-for="${CSS.escape(p.path)}"]`)
      || $('#duty-form-note', form);
    slot.textContent = slot.textContent ? `${slot.textContent}；${p.message}` : p.message;
    const wrap = slot.closest('.duty-field');
    if (wrap) wrap.classList.add('bad');
  }
}

async function submit(ctx, form, ent) {
  $('#duty-submit', form).disabled = true;
  try {
    const c = await api.post(`/enterprises/${ent.code}/commitments`, formData(form));
    showProblems(form, []);
    ctx.toast(`安全承诺已提交（${c.status_label}）`);
    $('#duty-form-note', form).textContent = `已于 ${time(c.filed_at)} 提交：${c.status_label}`;
    await loadList(ctx);
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 422 && e.body && e.body.problems) {
      showProblems(form, e.body.problems);
      ctx.toast(e.body.message, true);
    } else if (e instanceof api.ApiError && e.status === 409) {
      showProblems(form, [{ path: 'day', message: e.body.message }]);
      ctx.toast(e.body.message, true);
    } else throw e;
  } finally {
    $('#duty-submit', form).disabled = false;
  }
}

/** An enterprise's name; for a regulator, a link to its duties in 值守巡查. */
function entLink(ctx, code, name) {
  if (PLANT.has((ctx.state.principal || {}).role)) return name;
  return h('button', { type: 'button', class: 'linkish duty-open', title: '查看企业履职情况',
    onclick: () => ctx.show('watch', { enterprise: code }) }, name);
}

async function loadList(ctx) {
  const day = await api.get('/commitments/day', { region: ctx.state.filters.region });
  if (!root) return;
  $('#duty-day', root).textContent = `${day.day} · 截止 ${time(day.deadline)}`;
  const c = day.counts;
  $('#duty-counts', root).textContent = `未填报 ${c.missing} · 待填报 ${c.pending} · 按时 ${c.on_time} · 逾期 ${c.late}`;
  const body = $('#duty-list tbody', root);
  body.replaceChildren(...day.items.map((r) => {
    const cm = r.commitment;
    return h('tr', { dataset: { enterprise: r.enterprise, status: r.status } },
      h('td', {}, entLink(ctx, r.enterprise, r.enterprise_name),
      ctx.state.isSim(r.enterprise) && simBadge()),
      h('td', { class: 'wide' }, ctx.state.regionName(r.region)),
      h('td', {}, h('span', { class: `duty-status s-${r.status}` }, r.status_label)),
      h('td', {}, cm ? time(cm.filed_at) : '—'),
      h('td', { class: 'wide' }, cm ? cm.committer : '—'),
      h('td', { class: r.major_hidden_danger ? 'duty-flag' : '' }, cm ? (r.major_hidden_danger ? '有' : '无') : '—'),
      h('td', { class: r.transient ? 'duty-flag' : '' }, cm ? (cm.transient_sources.join('、') || '无') : '—'),
      h('td', { class: 'wide' }, cm ? cm.risk_grade_label : '—'));
  }));
  if (!day.items.length) body.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, '无企业')));
}

async function loadCalls(ctx) {
  const calls = await api.get('/roll-calls', { region: ctx.state.filters.region, since_days: 1 });
  if (!root) return;
  const plant = PLANT.has((ctx.state.principal || {}).role);
  const body = $('#rc-list tbody', root);
  body.replaceChildren(...calls.map((c) => h('tr', { dataset: { id: c.id, status: c.status } },
    h('td', {}, entLink(ctx, c.enterprise, c.enterprise_name)),
    h('td', {}, time(c.called_at)), h('td', {}, time(c.deadline)),
    h('td', {}, h('span', { class: `rc-status s-${c.status}` }, c.status_label)),
    h('td', {}, plant && !c.answered_at && h('button', {
      type: 'button', class: 'rc-answer',
      onclick: () => answer(ctx, c.id).catch((e) => ctx.failed(e, '应答点名')),
    }, '应答')))));
  if (!calls.length) body.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, '今日无点名')));
}

async function answer(ctx, id) {
  const c = await api.post(`/roll-calls/${id}/answer`);
  ctx.toast(`点名已应答（${c.status_label}）`);
  await loadCalls(ctx);
}

async function callRoll(ctx) {
  const who = ctx.state.principal || {};
  const region = ctx.state.filters.region || who.scope;
  const r = await api.post('/roll-calls', { region, size: 1000 });
  ctx.toast(`已点名 ${r.calls.length} 家企业`);
  await loadCalls(ctx);
}

function downloadCsv(ctx) {
  return api.download('/commitments/day.csv', { region: ctx.state.filters.region },
    `安全承诺-${labels ? labels.today : ''}.csv`);
}

async function mountAll(ctx) {
  labels = await api.get('/duties/labels');
  if (!root) return;
  const who = ctx.state.principal || {};
  $('#rc-call', root).hidden = PLANT.has(who.role);
  if (PLANT.has(who.role)) {
    const [first] = [...ctx.state.enterprises.values()];
    if (first) {
      const ent = { code: first.code, name: first.name,
        hazard_sources: ctx.state.hazardSources.filter((hs) => hs.enterprise === first.code) };
      $('#duty-form-panel', root).hidden = false;
      $('#duty-deadline', root).textContent = `${ent.name} · 须于每日 ${labels.deadline} 前填报`;
      buildForm(ctx, $('#duty-form', root), ent);
    }
  }
  await Promise.all([loadList(ctx), loadCalls(ctx)]);
}

export default {
  id: 'duties',
  title: '安全承诺',
  mount(el, ctx) {
    root = el;
    el.append(markup(MARKUP));
    $('#duty-csv', el).addEventListener('click', () => downloadCsv(ctx).catch((e) => ctx.failed(e, '导出承诺')));
    $('#rc-call', el).addEventListener('click', () => callRoll(ctx).catch((e) => ctx.failed(e, '点名')));
    $('#rc-reload', el).addEventListener('click', () => loadCalls(ctx).catch((e) => ctx.failed(e, '加载点名')));
    mountAll(ctx).catch((e) => ctx.failed(e, '加载承诺'));
    timer = setInterval(() => Promise.all([loadList(ctx), loadCalls(ctx)])
      .catch((e) => ctx.failed(e, '刷新承诺')), REFRESH_MS);
  },
  update(ctx, change) {
    if (change.kind === 'filters') {
      Promise.all([loadList(ctx), loadCalls(ctx)]).catch((e) => ctx.failed(e, '加载承诺'));
    }
  },
  unmount() {
    clearInterval(timer);
    root = null;
  },
};
