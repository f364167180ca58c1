// 值守巡查: the daily watch beside the commitment (views/duties.js).
// For a plant token: each hazard source's run state (GET /run-states) with the form to
// change it (PUT …/run-state), the holds in place (GET /holds) with 停用 / 抑制 by hand and
// 解除 (POST …/holds, …/holds/release), and the 包保 duty records (POST / GET
// …/duty-records; a hidden danger marked 已整改 with POST …/hidden-dangers/{id}/fixed).
// For a regulator: the day's 在线巡查 sample with its coverage (GET /patrols/day), a
// finding recorded per plant (POST /patrols) and, where the role may, a warning opened by
// hand (POST /warnings, where the warning part runs); and any enterprise of its scope,
// picked from the list or clicked in a list (ctx.show('watch', {enterprise})), with the
// same run states, holds and 包保 records read-only, its open duty findings
// (GET /duties/findings?enterprise=) and its commitment history (GET …/commitments).
// Only what state.may(action) allows is offered; a refused form shows each problem
// beside its field, as in duties.js.

import * as api from '../api.js';
import { ROLE, h, time } from '../fmt.js';
import { $, $$, markup } from '../ui.js';

const MARKUP = `
<section class="panel" id="pt-panel" hidden>
  <div class="toolbar"><h3>今日在线巡查</h3><span class="spacer"></span>
    <span id="pt-coverage" class="muted"></span>
    <button type="button" class="ghost" id="pt-reload">刷新</button></div>
  <table class="table" id="pt-list"><thead><tr><th>企业</th><th>数据在线</th><th>承诺已报</th>
    <th>点名应答</th><th>巡查</th><th></th></tr></thead><tbody></tbody></table>
  <form id="pt-form" class="duty-form" novalidate hidden></form>
</section>
<section class="panel" id="ent-panel" hidden>
  <div class="toolbar"><h3>企业履职情况</h3><span class="spacer"></span>
    <label class="ent-pick">企业 <select id="ent-pick"></select></label></div>
  <p class="muted" id="ent-hint">选择辖区内企业，或点击巡查名单、承诺名单中的企业名称，查看其运行状态、抑制与停用、包保履职记录和安全承诺记录。</p>
  <div id="ent-findings" hidden><h4>当前问题</h4><ul class="ent-findings"></ul></div>
</section>
<section class="panel" id="rs-panel" hidden>
  <div class="toolbar"><h3>运行状态</h3>
    <small class="muted">停车、检修期间工艺报警按设计抑制，数据质量报警照常</small></div>
  <table class="table" id="rs-list"><thead><tr><th>危险源</th><th>状态</th>
    <th class="wide">自</th><th>原因</th><th>预计结束</th><th></th></tr></thead><tbody></tbody></table>
  <form id="rs-form" class="duty-form" novalidate hidden></form>
</section>
<section class="panel" id="hold-panel" hidden>
  <div class="toolbar"><h3>抑制与停用</h3><span class="spacer"></span>
    <span id="hold-new"></span></div>
  <table class="table" id="hold-list"><thead><tr><th>危险源</th><th>类型</th><th>仪表</th>
    <th>原因</th><th class="wide">操作人</th><th class="wide">自</th><th>预计结束</th><th></th></tr></thead>
    <tbody></tbody></table>
  <form id="hold-form" class="duty-form" novalidate hidden></form>
</section>
<section class="panel" id="dr-panel" hidden>
  <h3>包保履职记录</h3>
  <form id="dr-form" class="duty-form" novalidate hidden></form>
  <table class="table" id="dr-list"><thead><tr><th>时间</th><th>危险源</th><th>包保角色</th>
    <th>责任人</th><th class="wide">检查内容</th><th>隐患及整改期限</th></tr></thead><tbody></tbody></table>
</section>
<section class="panel" id="cm-panel" hidden>
  <div class="toolbar"><h3>安全承诺记录</h3><span class="spacer"></span>
    <button type="button" class="ghost" id="cm-csv">导出 CSV</button></div>
  <table class="table" id="cm-list"><thead><tr><th>日期</th><th>状态</th><th class="wide">填报时间</th>
    <th>承诺人</th><th>重大隐患</th><th>开停车检修</th><th class="wide">值班领导</th></tr></thead>
    <tbody></tbody></table>
</section>`;

const HOLD = { suppressed: '停车抑制', out_of_service: '停用（维修）' };
const HOLD_RIGHT = { suppressed: 'hold.suppress', out_of_service: 'hold.out_of_service' };
const LEVEL = { blue: '蓝色', yellow: '黄色', orange: '橙色', red: '红色' };
const yesNo = (v) => (v == null ? '—' : (v ? '是' : '否'));

let root = null;
let labels = null;
let plant = null; // { code, name, sources: [{code, name}] } for a plant token
let subject = null; // the enterprise shown: the plant's own, or the one a regulator picked
const ACTOR = { ...ROLE, system: '系统', mqtt: '值班台' };

/** "county:sun-li" → "县级·sun-li": who acted, as a duty officer reads it. */
function who(actor) {
  if (!actor) return '—';
  const i = actor.indexOf(':');
  const kind = i < 0 ? '' : actor.slice(0, i);
  return ACTOR[kind] ? `${ACTOR[kind]}·${actor.slice(i + 1)}` : actor;
}

const field = (path, label, input) => h('label', { class: 'duty-field', dataset: { path } },
  h('span', {}, label), input, h('span', { class: 'field-error', dataset: { for: path } }));

function select(name, choices, value) {
  const el = h('select', { name }, ...Object.entries(choices).map(([v, t]) =>
    h('option', { value: v }, t)));
  if (value !== undefined) el.value = value;
  return el;
}

const val = (form, name) => form.querySelector(`[name="${name}"]`);
const hsName = (code) => ((subject && subject.sources.find((s) => s.code === code)) || { name: code }).name;
const localEnd = (v) => (v ? `${v}:00${labels.utc_offset}` : null);

function showProblems(form, problems, note) {
  for (const el of $$('.field-error', form)) el.textContent = '';
  for (const el of $$('.duty-field', form)) el.classList.remove('bad');
  for (const p of problems) {
    const slot = form.querySelector(`.field-error[data-for="${CSS.escape(p.path)}"]`) || note;
    slot.textContent = slot.textContent ? `${slot.textContent}；${p.message}` : p.message;
    const wrap = slot.closest('.duty-field');
    if (wrap) wrap.classList.add('bad');
  }
}

// A refused form: the problems beside their fields (422 invalid_form), else the message.
async function guarded(ctx, form, note, what, work) {
  const button = $('button[type=submit]', form);
  button.disabled = true;
  try {
    await work();
    showProblems(form, [], note);
    note.textContent = '';
  } catch (e) {
    if (e instanceof api.ApiError && e.body && e.body.problems) {
      showProblems(form, e.body.problems, note);
      ctx.toast(e.body.message, true);
    } else if (e instanceof api.ApiError && [409, 422].includes(e.status) && e.body) {
      showProblems(form, [], note);
      note.textContent = e.body.message;
      ctx.toast(e.body.message, true);
    } else ctx.failed(e, what);
  } finally {
    button.disabled = false;
  }
}

// --- run state -----------------------------------------------------------------------------

async function loadRunStates(ctx) {
  const rows = await api.get('/run-states', { enterprise: subject.code });
  if (!root) return;
  const may = ctx.state.may('runstate.set');
  $('#rs-list tbody', root).replaceChildren(...rows.map((r) => h('tr',
    { dataset: { hs: r.hazard_source, state: r.state || '' } },
    h('td', {}, hsName(r.hazard_source)),
    h('td', { class: r.process_alarms_suppressed ? 'duty-flag' : '' },
      r.state_label || '未申报', r.process_alarms_suppressed ? '（工艺报警抑制中）' : ''),
    h('td', { class: 'wide' }, r.since ? time(r.since) : '—'),
    h('td', {}, r.reason || '—'), h('td', {}, r.expected_end ? time(r.expected_end) : '—'),
    h('td', {}, may && h('button', { type: 'button', class: 'ghost rs-edit',
      onclick: () => runStateForm(ctx, r) }, '变更')))));
}

function runStateForm(ctx, r) {
  const form = $('#rs-form', root);
  const note = h('span', { class: 'muted rs-note' });
  form.replaceChildren(
    h('h4', {}, `变更运行状态：${hsName(r.hazard_source)}`),
    h('div', { class: 'duty-grid' },
      field('state', '运行状态', select('state', labels.run_states, r.state || 'running')),
      field('reason', '原因', h('input', { type: 'text', name: 'reason', maxlength: 200 })),
      field('expected_end', '预计结束时间', h('input', { type: 'datetime-local', name: 'expected_end' }))),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', id: 'rs-submit' }, '提交'),
      h('button', { type: 'button', class: 'ghost', onclick: () => { form.hidden = true; } }, '取消'),
      note));
  form.hidden = false;
  form.onsubmit = (ev) => {
    ev.preventDefault();
    guarded(ctx, form, note, '变更运行状态', async () => {
      const reason = val(form, 'reason').value.trim();
      const s = await api.call('PUT', `/enterprises/${subject.code}/hazard-sources/${r.hazard_source}/run-state`,
        { body: { state: val(form, 'state').value, reason: reason || null,
          expected_end: localEnd(val(form, 'expected_end').value) } });
      form.hidden = true;
      ctx.toast(`${hsName(r.hazard_source)}：${s.state_label}`);
      await Promise.all([loadRunStates(ctx), loadHolds(ctx)]);
    });
  };
}

// --- holds -----------------------------------------------------------------------------------

async function loadHolds(ctx) {
  const [holds, states] = await Promise.all([api.get('/holds', { enterprise: subject.code }),
    api.get('/run-states', { enterprise: subject.code })]);
  if (!root) return;
  // a suppression by design ends when the source is back: its run state's expected end
  const ends = new Map(states.filter((r) => r.process_alarms_suppressed && r.expected_end)
    .map((r) => [r.hazard_source, r.expected_end]));
  const body = $('#hold-list tbody', root);
  body.replaceChildren(...holds.map((x) => h('tr',
    { dataset: { hs: x.hazard_source, kind: x.kind, tag: x.tag || '' } },
    h('td', {}, hsName(x.hazard_source)), h('td', {}, HOLD[x.kind] || x.kind),
    h('td', {}, x.tag || '整个危险源'), h('td', {}, x.reason),
    h('td', { class: 'wide' }, who(x.by)), h('td', { class: 'wide' }, x.since ? time(x.since) : '—'),
    h('td', { class: 'hold-end' }, x.kind === 'suppressed' && ends.has(x.hazard_source)
      ? time(ends.get(x.hazard_source)) : '—'),
    h('td', {}, ctx.state.may(HOLD_RIGHT[x.kind]) && h('button', { type: 'button',
      class: 'ghost hold-release', onclick: () => release(ctx, x).catch((e) => ctx.failed(e, '解除')) },
    '解除')))));
  if (!holds.length) body.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, '无抑制或停用')));
}

async function release(ctx, x) {
  await api.post(`/enterprises/${x.enterprise}/hazard-sources/${x.hazard_source}/holds/release`,
    { kind: x.kind, tag: x.tag, reason: '页面解除' });
  ctx.toast(`已解除：${HOLD[x.kind]}`);
  await Promise.all([loadHolds(ctx), loadRunStates(ctx)]);
}

function holdForm(ctx, kind) {
  const form = $('#hold-form', root);
  const note = h('span', { class: 'muted' });
  const sources = Object.fromEntries(subject.sources.map((s) => [s.code, `${s.name}（${s.code}）`]));
  form.replaceChildren(
    h('h4', {}, kind === 'suppressed' ? '手动停车抑制' : '停用（维修）'),
    h('div', { class: 'duty-grid' },
      field('hazard_source', '危险源', select('hazard_source', sources)),
      kind === 'out_of_service' && field('tag', '仪表位号（空：整个危险源）',
        h('input', { type: 'text', name: 'tag', maxlength: 64 })),
      field('reason', '原因', h('input', { type: 'text', name: 'reason', maxlength: 500 }))),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', id: 'hold-submit' }, '确定'),
      h('button', { type: 'button', class: 'ghost', onclick: () => { form.hidden = true; } }, '取消'),
      note));
  form.hidden = false;
  form.onsubmit = (ev) => {
    ev.preventDefault();
    guarded(ctx, form, note, '抑制或停用', async () => {
      const reason = val(form, 'reason').value.trim();
      if (!reason) throw new api.ApiError(422, { message: '请填写原因', problems: [{ path: 'reason', message: '请填写原因' }] });
      const tag = kind === 'out_of_service' ? val(form, 'tag').value.trim() || null : null;
      await api.post(`/enterprises/${subject.code}/hazard-sources/${val(form, 'hazard_source').value}/holds`,
        { kind, tag, reason });
      form.hidden = true;
      ctx.toast(`已${HOLD[kind]}`);
      await Promise.all([loadHolds(ctx), loadRunStates(ctx)]);
    });
  };
}

// --- 包保 duty records ---------------------------------------------------------------------

function dangerRow(i) {
  return h('div', { class: 'duty-grid dr-danger' },
    field(`hidden_dangers[${i}].description`, `隐患${i + 1}`,
      h('input', { type: 'text', name: 'danger', maxlength: 500 })),
    field(`hidden_dangers[${i}].fix_by`, '整改期限', h('input', { type: 'date', name: 'fix_by' })));
}

function recordForm(ctx) {
  const form = $('#dr-form', root);
  const note = h('span', { class: 'muted' });
  const sources = Object.fromEntries(subject.sources.map((s) => [s.code, `${s.name}（${s.code}）`]));
  const dangers = h('div', { class: 'duty-sources', id: 'dr-dangers' });
  form.replaceChildren(
    h('div', { class: 'duty-grid' },
      field('hazard_source', '危险源', select('hazard_source', sources)),
      field('role', '包保角色', select('role', labels.chain_roles)),
      field('person', '责任人', h('input', { type: 'text', name: 'person', maxlength: 32 }))),
    field('checked', '检查内容（每行一项）', h('textarea', { name: 'checked', rows: 3, maxlength: 2000 })),
    dangers,
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', class: 'ghost', id: 'dr-add-danger',
        onclick: () => dangers.append(dangerRow(dangers.children.length)) }, '添加隐患'),
      h('button', { type: 'submit', id: 'dr-submit' }, '提交履职记录'), note));
  form.hidden = false;
  form.onsubmit = (ev) => {
    ev.preventDefault();
    guarded(ctx, form, note, '提交履职记录', async () => {
      const body = {
        hazard_source: val(form, 'hazard_source').value, role: val(form, 'role').value,
        person: val(form, 'person').value.trim(),
        checked: val(form, 'checked').value.split('\n').map((t) => t.trim()).filter(Boolean),
        hidden_dangers: $$('.dr-danger', form).map((d) => ({
          description: $('[name=danger]', d).value.trim(), fix_by: $('[name=fix_by]', d).value || null }))
          .filter((d) => d.description || d.fix_by),
      };
      const r = await api.post(`/enterprises/${subject.code}/duty-records`, body);
      ctx.toast(`履职记录已提交（${r.role_label}）`);
      recordForm(ctx);
      await loadRecords(ctx);
    });
  };
}

async function loadRecords(ctx) {
  const records = await api.get(`/enterprises/${subject.code}/duty-records`);
  if (!root) return;
  const may = ctx.state.may('duty.record');
  const body = $('#dr-list tbody', root);
  // past its fix-by day (province time) and not fixed: what the 黄 warning is about
  const overdue = (d) => !d.fixed_at && d.fix_by < labels.today;
  body.replaceChildren(...records.map((r) => h('tr', { dataset: { id: r.id } },
    h('td', {}, time(r.at)), h('td', {}, hsName(r.hazard_source)), h('td', {}, r.role_label),
    h('td', {}, r.person), h('td', { class: 'wide' }, r.checked.join('；')),
    h('td', {}, r.hidden_dangers.length ? r.hidden_dangers.map((d) => h('div',
      { class: overdue(d) ? 'dr-hd dr-overdue' : 'dr-hd',
        dataset: { id: d.id, fixed: d.fixed_at ? '1' : '0', overdue: overdue(d) ? '1' : '0' } },
      `${d.description}（${d.fix_by}前整改）`,
      overdue(d) && h('span', { class: 'dr-late' }, ' 已逾期'),
      d.fixed_at ? h('span', { class: 'muted' }, ` 已整改 ${time(d.fixed_at)}`)
        : may && h('button', { type: 'button', class: 'ghost dr-fix',
          onclick: () => fixed(ctx, d.id).catch((e) => ctx.failed(e, '整改')) }, '已整改'))) : '无'))));
  if (!records.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, '暂无记录')));
}

async function fixed(ctx, id) {
  await api.post(`/enterprises/${subject.code}/hidden-dangers/${id}/fixed`);
  ctx.toast('隐患已整改');
  await loadRecords(ctx);
}

// --- 在线巡查 ------------------------------------------------------------------------------

async function loadPatrols(ctx) {
  const draws = await api.get('/patrols/day', { region: ctx.state.filters.region });
  if (!root) return;
  const body = $('#pt-list tbody', root);
  const targets = draws.flatMap((d) => d.enterprises.map((t) => ({ ...t, county: d.county })));
  $('#pt-coverage', root).replaceChildren(...draws.map((d) => h('span',
    { class: 'pt-cov', dataset: { county: d.county } },
    `${ctx.state.regionName(d.county)}：已巡查 ${Math.round(d.coverage * 100)}% `)));
  if (!draws.length) $('#pt-coverage', root).textContent = '今日无抽查';
  body.replaceChildren(...targets.map((t) => h('tr',
    { dataset: { enterprise: t.enterprise, county: t.county, patrolled: t.patrolled ? '1' : '0' } },
    h('td', {}, h('button', { type: 'button', class: 'linkish pt-open', title: '查看企业履职情况',
      onclick: () => showEnterprise(ctx, t.enterprise, true) }, t.enterprise_name)),
    h('td', {}, yesNo(t.data_online)),
    h('td', {}, yesNo(t.commitment_filed)), h('td', {}, yesNo(t.roll_call_answered)),
    h('td', { class: 'pt-done' }, t.patrolled ? '已巡查' : '未巡查'),
    h('td', {}, ctx.state.may('patrol.record') && h('button', { type: 'button', class: 'pt-record',
      onclick: () => patrolForm(ctx, t) }, '记录巡查')))));
  if (!targets.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, '今日无抽查企业')));
}

function patrolForm(ctx, t) {
  const form = $('#pt-form', root);
  const note = h('span', { class: 'muted' });
  const known = { data_online: t.data_online, commitment_filed: t.commitment_filed,
    roll_call_answered: t.roll_call_answered };
  form.replaceChildren(
    h('h4', {}, `巡查记录：${t.enterprise_name}`),
    h('div', { class: 'duty-grid' }, ...Object.entries(labels.patrol_checks).map(([k, text]) =>
      field(`findings.${k}`, `${text}（合格）`, h('input', { type: 'checkbox', name: `check.${k}`,
        checked: known[k] !== false })))),
    field('note', '巡查意见', h('input', { type: 'text', name: 'note', maxlength: 500 })),
    ctx.state.may('warning.open') && ctx.state.principal.warnings && h('div', { class: 'duty-grid pt-warning' },
      field('open_warning', '同时开具预警', h('input', { type: 'checkbox', name: 'open_warning' })),
      field('level', '预警等级', select('level', LEVEL, 'yellow'))),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', id: 'pt-submit' }, '提交巡查'),
      h('button', { type: 'button', class: 'ghost', onclick: () => { form.hidden = true; } }, '取消'),
      note));
  form.hidden = false;
  form.onsubmit = (ev) => {
    ev.preventDefault();
    guarded(ctx, form, note, '提交巡查', async () => {
      const findings = Object.fromEntries(Object.keys(labels.patrol_checks).map((k) =>
        [k, val(form, `check.${k}`).checked]));
      const noteText = val(form, 'note').value.trim();
      const r = await api.post('/patrols', { enterprise: t.enterprise, findings, note: noteText });
      const warn = val(form, 'open_warning');
      if (warn && warn.checked) {
        const text = noteText || `在线巡查发现：${r.failed_labels.join('、') || '问题'}`;
        await api.post('/warnings', { enterprise: t.enterprise, level: val(form, 'level').value, text });
        ctx.toast('巡查已记录，并已开具预警');
      } else ctx.toast(r.failed.length ? `巡查已记录：${r.failed_labels.join('、')}不合格` : '巡查已记录');
      form.hidden = true;
      await loadPatrols(ctx);
    });
  };
}

// --- an enterprise of a regulator's scope ------------------------------------------------

async function loadFindings(ctx) {
  const found = await api.get('/duties/findings', { enterprise: subject.code });
  if (!root) return;
  const list = $('#ent-findings ul', root);
  list.replaceChildren(...found.map((f) => h('li', { dataset: { kind: f.kind } },
    h('span', { class: 'duty-flag' }, f.kind_label), '：', f.detail,
    f.hazard_source ? `（${hsName(f.hazard_source)}）` : '', f.at ? ` · ${time(f.at)}` : '')));
  if (!found.length) list.append(h('li', { class: 'muted' }, '无逾期或未履职事项'));
  $('#ent-findings', root).hidden = false;
}

async function loadCommitments() {
  const page = await api.get(`/enterprises/${subject.code}/commitments`, { limit: 31 });
  if (!root) return;
  const body = $('#cm-list tbody', root);
  body.replaceChildren(...page.items.map((c) => h('tr', { dataset: { day: c.day, status: c.status } },
    h('td', {}, c.day), h('td', {}, h('span', { class: `duty-status s-${c.status}` }, c.status_label)),
    h('td', { class: 'wide' }, time(c.filed_at)), h('td', {}, c.committer),
    h('td', { class: c.major_hidden_danger ? 'duty-flag' : '' }, c.major_hidden_danger ? '有' : '无'),
    h('td', { class: c.transient_sources.length ? 'duty-flag' : '' },
      c.transient_sources.map(hsName).join('、') || '无'),
    h('td', { class: 'wide' }, `${c.duty_leader.name} ${c.duty_leader.phone}`))));
  if (!page.items.length) body.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, '暂无承诺记录')));
}

function pickOptions(ctx) {
  const region = ctx.state.filters.region || '';
  const ents = [...ctx.state.enterprises.values()].filter((e) => e.region.startsWith(region))
    .sort((a, b) => a.region.localeCompare(b.region) || a.name.localeCompare(b.name, 'zh'));
  const pick = $('#ent-pick', root);
  pick.replaceChildren(h('option', { value: '' }, '请选择企业'),
    ...ents.map((e) => h('option', { value: e.code }, e.name)));
  pick.value = subject && ents.some((e) => e.code === subject.code) ? subject.code : '';
}

/** Shows an enterprise of the scope (a regulator's view: read-only unless its rights allow). */
async function showEnterprise(ctx, code, scroll) {
  const ent = ctx.state.enterprises.get(code);
  if (!ent || !root) return;
  subject = { code, name: ent.name,
    sources: ctx.state.hazardSources.filter((hs) => hs.enterprise === code) };
  $('#ent-pick', root).value = code;
  $('#ent-hint', root).textContent = `${ent.name}（${ctx.state.regionName(ent.region)}）`;
  for (const id of ['#rs-panel', '#hold-panel', '#dr-panel', '#cm-panel']) $(id, root).hidden = false;
  for (const id of ['#rs-form', '#hold-form', '#dr-form']) $(id, root).hidden = true;
  if (ctx.state.may('duty.record')) recordForm(ctx);
  if (scroll) $('#ent-panel', root).scrollIntoView({ block: 'start' });
  await Promise.all([loadFindings(ctx), loadRunStates(ctx), loadHolds(ctx), loadRecords(ctx),
    loadCommitments()]);
}

// --- the view ----------------------------------------------------------------------------

async function mountAll(ctx, arg) {
  labels = await api.get('/duties/labels');
  if (!root) return;
  const who = ctx.state.principal || {};
  const isPlant = who.role === 'enterprise' || who.role === 'simulator';
  const [first] = [...ctx.state.enterprises.values()];
  plant = isPlant && first ? { code: first.code, name: first.name,
    sources: ctx.state.hazardSources.filter((hs) => hs.enterprise === first.code) } : null;
  subject = plant;
  const work = [];
  if (plant) {
    $('#rs-panel', root).hidden = false;
    $('#hold-panel', root).hidden = false;
    $('#dr-panel', root).hidden = false;
    $('#hold-new', root).replaceChildren(...Object.keys(HOLD).filter((k) => ctx.state.may(HOLD_RIGHT[k]))
      .map((k) => h('button', { type: 'button', class: 'ghost', id: `hold-new-${k}`,
        onclick: () => holdForm(ctx, k) }, k === 'suppressed' ? '手动抑制' : '停用')));
    if (ctx.state.may('duty.record')) recordForm(ctx);
    work.push(loadRunStates(ctx), loadHolds(ctx), loadRecords(ctx));
  } else if (!isPlant) {
    $('#pt-panel', root).hidden = false;
    $('#ent-panel', root).hidden = false;
    pickOptions(ctx);
    work.push(loadPatrols(ctx));
    if (arg && arg.enterprise) work.push(showEnterprise(ctx, arg.enterprise));
  }
  await Promise.all(work);
}

export default {
  id: 'watch',
  title: '值守巡查',
  mount(el, ctx, arg) {
    root = el;
    el.append(markup(MARKUP));
    $('#pt-reload', el).addEventListener('click', () => loadPatrols(ctx).catch((e) => ctx.failed(e, '加载巡查')));
    $('#ent-pick', el).addEventListener('change', (ev) => {
      if (ev.target.value) showEnterprise(ctx, ev.target.value).catch((e) => ctx.failed(e, '加载企业履职'));
    });
    $('#cm-csv', el).addEventListener('click', () => subject && api.download(
      `/enterprises/${subject.code}/commitments.csv`, {}, `安全承诺-${subject.name}.csv`)
      .catch((e) => ctx.failed(e, '导出承诺')));
    mountAll(ctx, arg).catch((e) => ctx.failed(e, '加载值守巡查'));
  },
  update(ctx, change) {
    if (change.kind === 'filters' && root && !plant) {
      pickOptions(ctx);
      loadPatrols(ctx).catch((e) => ctx.failed(e, '加载巡查'));
    }
  },
  unmount() {
    root = null;
    plant = null;
    subject = null;
  },
};
