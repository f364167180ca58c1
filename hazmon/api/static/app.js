// The monitoring-centre page's shell: header (scope, tabs, stream status, clock), the view
// table (views/index.js) shown one at a time in #left, the live alarm list, login and the
// session (registry reload, alarm stream). Plain ES modules, no build step; every API call
// carries the token.

import * as api from './api.js';
import { createAlarmList } from './alarms.js';
import { ROLE, dateTime, h } from './fmt.js';
import { createLogin } from './login.js';
import { PageState } from './state.js';
import { $, debounce, toast } from './ui.js';
import { VIEWS } from './views/index.js';

const REGISTRY_REFRESH_MS = 30000;
const REFUSED = '令牌无效或已被吊销，请重新登录';

const state = new PageState();
let active = null; // {view, el}
let stream = null;
let timers = [];

/** What every part gets: the shared state and the shell's services. */
const ctx = {
  state,
  show,
  toast,
  failed,
  changed,
  refreshRegistry: debounce(() => loadRegistry().catch((e) => failed(e, '刷新危险源')), 700),
};

function failed(e, what) {
  if (e instanceof api.Unauthorized) { logout(REFUSED); return; }
  console.error(what, e);
  toast(`${what}失败：${e.message || e}`, true);
}

// --- views ---------------------------------------------------------------------------------

const byId = new Map(VIEWS.map((v) => [v.id, v]));
const left = $('#left');
const tabs = $('#tabs');
for (const v of VIEWS) {
  tabs.append(h('button', { type: 'button', dataset: { view: v.id }, onclick: () => show(v.id) },
    v.title));
}

/** Leaves the shown view and mounts view `id` in a fresh container; arg goes to its mount. */
function show(id, arg) {
  const view = byId.get(id);
  if (active) {
    active.view.unmount();
    active.el.remove();
  }
  const el = h('div', { id: `view-${id}`, class: 'view' });
  left.append(el);
  active = { view, el };
  for (const b of tabs.children) b.classList.toggle('active', b.dataset.view === id);
  document.body.dataset.view = id; // the narrow-screen layout orders the panels by it
  window.scrollTo(0, 0); // on a phone the page scrolls: a new view starts at its top
  view.mount(el, ctx, arg);
}

/** Shared data changed: the shown view redraws what depends on it. */
function changed(change) {
  // the list redraws itself on its own events; a redraw on each registry reload would cut
  // a new alarm's highlight short
  if (change.kind === 'filters') alarms.render();
  if (active) active.view.update(ctx, change);
}

// --- session -------------------------------------------------------------------------------

const alarms = createAlarmList($('#alarms'), ctx);
const login = createLogin(start);

async function loadRegistry() {
  const [ents, hss] = await Promise.all([api.getAll('/enterprises'), api.getAll('/hazard-sources')]);
  state.enterprises = new Map(ents.map((e) => [e.code, e]));
  state.hazardSources = hss;
  changed({ kind: 'registry' });
}

async function start() {
  const { role, scope, actions, warnings } = await api.get('/me');
  state.principal = { role, scope, actions: new Set(actions), warnings };
  const names = await api.get('/regions');
  state.regionNames = new Map(names.map((r) => [r.prefix, r.name]));
  await loadRegistry();
  $('#scope').textContent = role === 'enterprise' ? `企业 · ${state.entName(scope)}`
    : `${ROLE[role] || role}监测中心 · 辖区 ${state.regionName(scope)}`;
  await alarms.load();
  if (stream) stream.stop();
  stream = api.followAlarms({
    onStatus: setConn,
    onConnected: () => { alarms.load().catch((e) => failed(e, '加载报警')); },
    onEvent: alarms.onEvent,
    onUnauthorized: () => logout(REFUSED),
  });
  timers.push(setInterval(() => loadRegistry().catch((e) => failed(e, '刷新危险源')),
    REGISTRY_REFRESH_MS));
  document.body.dataset.ready = '1';
}

function logout(message = '') {
  api.token.clear();
  if (stream) stream.stop();
  stream = null;
  timers.forEach(clearInterval);
  timers = [];
  state.clear();
  delete document.body.dataset.ready;
  alarms.render();
  show(VIEWS[0].id);
  setConn('stopped');
  $('#scope').textContent = '未登录';
  login.show(message);
}
$('#logout').addEventListener('click', () => logout());

function setConn(status) {
  const el = $('#conn');
  el.textContent = {
    live: '● 实时连接', connecting: '● 连接中…', retry: '● 重连中…', stopped: '● 未连接',
  }[status];
  el.className = `conn ${{ live: 'on', connecting: 'wait', retry: 'wait' }[status] || 'off'}`;
  el.dataset.status = status;
}

function tick() {
  $('#clock').textContent = `北京时间 ${dateTime(Date.now())}`;
}

// --- start ---------------------------------------------------------------------------------

tick();
setInterval(tick, 1000);
setConn('stopped');
show(VIEWS[0].id);
if (api.token.get()) {
  start().catch((e) => {
    if (e instanceof api.Unauthorized) logout(REFUSED);
    else login.show(`无法连接服务：${e.message || e}`);
  });
} else {
  login.show();
}
