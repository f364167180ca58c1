// Labels in Chinese, Beijing-time formatting and small DOM helpers.

export const PRIORITY = { critical: '紧急', high: '高', medium: '中', low: '低' };
export const PRIORITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 };
export const STATE = {
  unack_active: '未确认', ack_active: '已确认', unack_rtn: '已恢复未确认', normal: '已关闭',
};
export const TIER = { 1: '一级', 2: '二级', 3: '三级', 4: '四级' };
export const KIND = {
  pressure: '压力', temperature: '温度', level: '液位', flow: '流量',
  gas_combustible: '可燃气体', gas_toxic: '有毒气体', oxygen: '氧含量', humidity: '湿度',
};
export const HS_KIND = { tank_farm: '罐区', production_unit: '生产装置', warehouse: '库区' };
export const RULE = {
  high_high: '高高报', high: '高报', low: '低报', low_low: '低低报',
  rate_rise: '上升速率', rate_fall: '下降速率', stale: '数据中断', frozen: '数值冻结',
  bad_quality: '质量坏值', out_of_range: '超量程', gateway_offline: '网关离线',
};
/** Chinese name of a rule; trend_* and voting rules keep a readable fallback. */
export const ruleLabel = (r) => RULE[r] || (r && r.startsWith('trend_') ? '趋势预警' : r || '—');
export const LIMIT = { high_high: '高高限', high: '高限', low: '低限', low_low: '低低限' };
export const GATEWAY = { online: '在线', offline: '离线', unknown: '未知' };
export const ROLE = { province: '省级', city: '市级', county: '县级', enterprise: '企业', simulator: '模拟器' };
export const EVENT = {
  raised: '报警', updated: '更新', cleared: '恢复', acknowledged: '确认', shelved: '搁置',
  unshelved: '解除搁置', shelve_expired: '搁置到期', commented: '备注', closed: '关闭',
  reactivated: '再次报警', suppressed: '屏蔽', unsuppressed: '解除屏蔽',
  removed_from_service: '停用', returned_to_service: '恢复投用', escalated: '升级通知',
};

const TZ = 'Asia/Shanghai';
const partsFmt = new Intl.DateTimeFormat('zh-CN', {
  timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

function parts(ms) {
  const p = {};
  for (const { type, value } of partsFmt.formatToParts(new Date(ms))) p[type] = value;
  return p;
}

const toMs = (t) => (typeof t === 'number' ? t : Date.parse(t));

/** "11-22 10:00:03" in Beijing time; '—' for null. */
export function time(t) {
  if (t == null) return '—';
  const p = parts(toMs(t));
  return `${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

export function dateTime(t) {
  const p = parts(toMs(t));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** A chart axis label: "10:05" within a day, "11-22 10:00" beyond. */
export function axisTime(ms, long) {
  const p = parts(ms);
  return long ? `${p.month}-${p.day} ${p.hour}:${p.minute}` : `${p.hour}:${p.minute}`;
}

export function num(v, digits = 4) {
  if (v == null || Number.isNaN(v)) return '—';
  if (v !== 0 && Math.abs(v) < 1) return String(Number(v.toPrecision(digits)));
  return String(Math.round(v * 1000) / 1000);
}

export function duration(s) {
  if (s == null) return '—';
  if (s < 60) return `${Math.round(s)} 秒`;
  if (s < 3600) return `${(s / 60).toFixed(1)} 分钟`;
  return `${(s / 3600).toFixed(1)} 小时`;
}

export const tierLabel = (t) => TIER[t] || '非重大';

/** h('div', {class: 'x', onclick: f}, 'text', child) — text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s(tag, attrs = {}, parent = null, text = null) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) el.setAttribute(k, String(v));
  if (text != null) el.textContent = String(text);
  if (parent) parent.append(el);
  return el;
}
