// The live alarm list (the right-hand panel): open alarms loaded from the API and kept
// current from the stream, filtered like the views, with 确认 / 搁置 / 解除搁置 / 备注.
// The open alarms themselves live in ctx.state.alarms.

import * as api from './api.js';
import { createAlarmDialogs } from './dialogs.js';
import { PRIORITY, PRIORITY_RANK, STATE, h, ruleLabel, tierLabel, time } from './fmt.js';
import { $, markup, simBadge } from './ui.js';

const MAX_LISTED = 300;
const MAX_LOADED = 2000;

const MARKUP = `
<div class="alarms-head">
  <h2>实时报警</h2>
  <span id="alarm-count" class="muted"></span>
  <span class="spacer"></span>
  <label class="muted"><input type="checkbox" id="only-unack"> 仅未确认</label>
</div>
<ol id="alarm-list" class="alarm-list"></ol>
<p id="alarm-empty" class="muted empty-note">当前无未关闭报警</p>`;

/** The API's alarm as the list keeps it. */
function fromApi(a) {
  return { ...a, shelved_until: a.shelved ? a.shelved.until : null,
    suppressed: !!a.suppressed, out_of_service: !!a.out_of_service };
}

/**
 * Builds the list into el. Returns {load(), onEvent(name, data), render()}: load() reads
 * every open alarm, onEvent() applies one stream event, render() redraws from the state.
 */
export function createAlarmList(el, ctx) {
  const { state } = ctx;
  el.append(markup(MARKUP));
  const dialogs = createAlarmDialogs(ctx, apply);
  $('#only-unack', el).addEventListener('change', render);

  async function load() {
    const items = [];
    let cursor = null;
    do {
      const page = await api.get('/alarms', { open: true, limit: 500, cursor });
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && items.length < MAX_LOADED);
    state.alarms = new Map(items.map((a) => [a.id, fromApi(a)]));
    for (const a of items) if (a.simulated) state.simulated.add(a.enterprise);
    render();
  }

  function onEvent(name, e) {
    if (name === 'overflow') { load().catch((err) => ctx.failed(err, '加载报警')); return; }
    if (name !== 'alarm') return;
    if (e.simulated) state.simulated.add(e.enterprise);
    if (!e.open) state.alarms.delete(e.id);
    else state.alarms.set(e.id, { ...(state.alarms.get(e.id) || {}), ...e, fresh: e.event === 'raised' });
    render();
    ctx.refreshRegistry();
    ctx.changed({ kind: 'alarm', alarm: e });
  }

  /** The alarm an action returned. */
  function apply(a) {
    if (!a.open) state.alarms.delete(a.id);
    else state.alarms.set(a.id, fromApi(a));
    render();
    ctx.refreshRegistry();
  }

  async function act(a, path, body, what, done) {
    try {
      apply(await api.post(`/alarms/${encodeURIComponent(a.id)}/${path}`, body));
      ctx.toast(done);
    } catch (e) { ctx.failed(e, what); }
  }

  function render() {
    const onlyUnack = $('#only-unack', el).checked;
    const all = [...state.alarms.values()];
    const list = all.filter((a) => state.inFilter(a.region, a.tier) && (!onlyUnack || !a.acked));
    // newest first; raised in the same second, the more urgent first
    list.sort((a, b) => (b.raised_at || '').localeCompare(a.raised_at || '')
      || (PRIORITY_RANK[a.priority] ?? 9) - (PRIORITY_RANK[b.priority] ?? 9) || b.id.localeCompare(a.id));
    const unack = all.filter((a) => !a.acked).length;
    $('#alarm-count', el).textContent = `未关闭 ${all.length} · 未确认 ${unack}`;
    $('#alarm-list', el).replaceChildren(...list.slice(0, MAX_LISTED).map(item));
    for (const a of list) a.fresh = false; // highlight a new alarm once, not at each render
    $('#alarm-empty', el).hidden = list.length > 0;
  }

  function item(a) {
    const shelved = !!a.shelved_until;
    return h('li', {
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
    h('div', { class: 'a-meta' }, `${state.entName(a.enterprise)} · `,
      h('a', { href: '#', class: 'a-tag', onclick: (ev) => { ev.preventDefault();
        ctx.show('sensor', { enterprise: a.enterprise, hazardSource: a.hazard_source, tag: a.tag }); } },
      a.tag || a.hazard_source),
      ` · ${ruleLabel(a.rule)} · ${tierLabel(a.tier)}`),
    h('div', { class: 'a-actions' },
      !a.acked && state.may('alarm.ack') && h('button', { type: 'button', class: 'act-ack',
        onclick: () => act(a, 'ack', { note: '' }, '确认', '已确认') }, '确认'),
      state.may('alarm.shelve') && (shelved
        ? h('button', { type: 'button', class: 'act-unshelve ghost',
          onclick: () => act(a, 'unshelve', { reason: '' }, '解除搁置', '已解除搁置') }, '解除搁置')
        : h('button', { type: 'button', class: 'act-shelve ghost', onclick: () => dialogs.shelve(a) }, '搁置')),
      state.may('alarm.comment') && h('button', { type: 'button', class: 'act-comment ghost', onclick: () => dialogs.comment(a) }, '备注')));
  }

  return { load, onEvent, render };
}
