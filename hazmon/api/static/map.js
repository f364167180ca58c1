// 一张图: the centre's province on one map (Apache ECharts, vendored with its boundary data
// under vendor/, see vendor/README.md), each enterprise's hazard sources placed at its
// location and coloured by their gravest open warning (预警 红/橙/黄/蓝) or, switched, by their
// worst open alarm; sized by their most severe tier.
// Sites closer than a marker's width are drawn as one cluster (a count, in the colour of
// its worst alarm) until zoomed apart, so nothing overlaps; names are shown where they fit
// and always in the tooltip. No tiles and nothing from another origin: the page runs on a
// closed network.

import * as echarts from './vendor/echarts/echarts.esm.min.mjs';
import { PRIORITY, PRIORITY_RANK, h, tierLabel } from './fmt.js';
import { prioOf } from './ui.js';

// Province maps vendored under vendor/maps/<code>.json, by GB/T 2260 province code.
export const PROVINCE_MAPS = { 32: '江苏省' };

const COLOR = {
  critical: '#e5383b', high: '#f77f00', medium: '#f4c430', low: '#3a86ff', none: '#2a9d8f',
};
// The warning levels' colours, as the 预警 view's badges; 'none': no open warning.
const WARN_COLOR = { red: '#d32f2f', orange: '#f57c00', yellow: '#fbc02d', blue: '#1976d2',
  none: '#2a9d8f' };
const WARN_RANK = { red: 0, orange: 1, yellow: 2, blue: 3 };
export const WARN_LABEL = { red: '红色预警', orange: '橙色预警', yellow: '黄色预警', blue: '蓝色预警' };
const graver = (a, b) => ((WARN_RANK[a] ?? 9) <= (WARN_RANK[b] ?? 9) ? a : b);
const SIZE = { 1: 22, 2: 18, 3: 15, 4: 12 }; // by tier: a tier-1 site stands out
const CLUSTER_PX = 22; // sites nearer than this on screen are drawn as one cluster
const CLUSTER_ZOOM = 3; // a click on a cluster zooms by this much around it

// On a touch screen a drag must scroll the page, not pan the map: zoom there by tapping a
// cluster, and 复位 (reset) brings the whole province back.
const ROAM = !matchMedia('(pointer: coarse)').matches;

const loading = new Map(); // province code -> Promise<boolean> (registered or not)

function loadProvince(code) {
  if (!PROVINCE_MAPS[code]) return Promise.resolve(false);
  if (!loading.has(code)) {
    loading.set(code, fetch(`/static/vendor/maps/${code}.json`)
      .then((r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); return r.json(); })
      .then((json) => { echarts.registerMap(`p${code}`, json); return true; }));
  }
  return loading.get(code);
}

/** The province shown: the caller's own, else the one most of the sites are in. */
function provinceOf(state, sites) {
  const scope = (state.principal && state.principal.scope) || '';
  if (/^\d{2}/.test(scope)) return scope.slice(0, 2);
  const n = new Map();
  for (const s of sites) n.set(s.region.slice(0, 2), (n.get(s.region.slice(0, 2)) || 0) + 1);
  return [...n.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] || '';
}

/** A short name for a label: the firm's words without the company-form suffix. */
export function shortName(name) {
  return name.replace(/(股份)?(有限(责任)?公司|集团)$/, '') || name;
}

const worse = (a, b) => ((PRIORITY_RANK[a] ?? 9) <= (PRIORITY_RANK[b] ?? 9) ? a : b);

/**
 * One site per located enterprise: its listed hazard sources, worst alarm, gravest open
 * warning (`warnings`: "enterprise/hazard source" -> level, "enterprise/" for the
 * enterprise's own), top tier.
 */
function sitesOf(list, state, warnings) {
  const by = new Map();
  for (const x of list) {
    let site = by.get(x.enterprise);
    if (!site) {
      const e = state.enterprises.get(x.enterprise) || {};
      site = { code: x.enterprise, name: state.entName(x.enterprise), region: e.region || x.region || '',
        location: e.location, prio: 'none', tier: null, hss: [], open: 0, sim: state.isSim(x.enterprise),
        warn: warnings.get(`${x.enterprise}/`) || 'none' };
      by.set(x.enterprise, site);
    }
    const warn = warnings.get(`${x.enterprise}/${x.code}`) || 'none';
    site.warn = graver(warn, site.warn);
    site.prio = worse(prioOf(x.worst_alarm), site.prio);
    if (x.tier && (!site.tier || x.tier < site.tier)) site.tier = x.tier;
    site.hss.push({ ...x, warn });
    site.open += x.open_alarms || 0;
  }
  return [...by.values()];
}

/** The rank a site is coloured and ordered by: its warning, or its alarm. */
const rankOf = (s, mode) => (mode === 'warning' ? WARN_RANK[s.warn] : PRIORITY_RANK[s.prio]) ?? 9;

/** Greedy clustering in screen pixels, worst sites first so they anchor their cluster. */
function cluster(chart, sites, mode) {
  const order = [...sites].sort((a, b) => rankOf(a, mode) - rankOf(b, mode)
    || (a.tier || 9) - (b.tier || 9));
  const groups = [];
  for (const s of order) {
    // copied: ECharts may hand back the same array on each call
    const at = chart.convertToPixel({ geoIndex: 0 }, [s.location.lon, s.location.lat]);
    const px = at && [at[0], at[1]];
    const g = px && groups.find((c) => Math.hypot(c.px[0] - px[0], c.px[1] - px[1]) < CLUSTER_PX);
    if (g) g.sites.push(s);
    else groups.push({ px, sites: [s] });
  }
  return groups;
}

function siteTip(s) {
  return h('div', { class: 'map-tip' },
    h('b', {}, s.name), s.sim && h('span', { class: 'sim' }, '模拟'),
    h('div', { class: 'muted' }, `${s.region} · ${tierLabel(s.tier)} · 未关闭报警 ${s.open}`),
    s.warn !== 'none' && h('div', { class: `tip-warn wn-${s.warn}` }, `未消警：${WARN_LABEL[s.warn]}`),
    ...s.hss.map((x) => h('div', { class: `tip-hs p-${prioOf(x.worst_alarm)}` }, h('i'),
      `${x.name}：${x.worst_alarm ? `${PRIORITY[prioOf(x.worst_alarm)]} · ${x.worst_alarm.message}` : '运行正常'}`,
      x.warn !== 'none' ? ` · ${WARN_LABEL[x.warn]}` : '')));
}

function clusterTip(g) {
  const shown = g.sites.slice(0, 8);
  return h('div', { class: 'map-tip' }, h('b', {}, `${g.sites.length} 家企业（点击放大）`),
    ...shown.map((s) => h('div', { class: `tip-hs p-${s.prio}` }, h('i'),
      `${s.name} · ${tierLabel(s.tier)}${s.prio !== 'none' ? ` · ${PRIORITY[s.prio]}` : ''}`)),
    g.sites.length > shown.length && h('div', { class: 'muted' }, `另有 ${g.sites.length - shown.length} 家`));
}

function point(g, mode) {
  const lead = g.sites[0]; // the worst: the clusters are built worst first
  const one = g.sites.length === 1;
  const [lon, lat] = one ? [lead.location.lon, lead.location.lat]
    : [g.sites.reduce((a, s) => a + s.location.lon, 0) / g.sites.length,
      g.sites.reduce((a, s) => a + s.location.lat, 0) / g.sites.length];
  return {
    id: g.sites.map((s) => s.code).join(','), // stable across redraws
    name: one ? shortName(lead.name) : `${g.sites.length}`,
    value: [lon, lat],
    enterprise: one ? lead.code : null,
    enterprises: g.sites.map((s) => s.code),
    prio: lead.prio,
    warn: lead.warn,
    symbolSize: one ? SIZE[lead.tier] || 12 : Math.min(40, 22 + 3 * g.sites.length),
    itemStyle: { color: mode === 'warning' ? WARN_COLOR[lead.warn] : COLOR[lead.prio],
      borderColor: '#fff', borderWidth: one ? 2 : 3 },
    label: one
      ? { show: true, position: 'right', formatter: '{b}', color: '#e6edf5', fontSize: 13,
        textBorderColor: '#0d1520', textBorderWidth: 3 }
      : { show: true, position: 'inside', formatter: '{b}', color: '#fff', fontSize: 14,
        fontWeight: 'bold' },
  };
}

/**
 * The map view of one element. draw(list, state) redraws it for the listed hazard
 * sources (resolving to the province's name, '' without its boundaries); note receives
 * the enterprises without coordinates. onPick(code) is called when
 * a single site is clicked.
 */
export function createMap(el, note, onPick) {
  const chart = echarts.init(el, null, { renderer: 'canvas' });
  let sites = [];
  let province = null;
  let frame = 0;
  let tips = []; // the tooltip of each point of the 'sites' series, by data index
  let mode = 'alarm'; // what the markers are coloured by: 'warning' or 'alarm'

  function redrawPoints() {
    frame = 0;
    if (chart.isDisposed()) return;
    const groups = cluster(chart, sites, mode);
    const data = groups.map((g) => point(g, mode));
    tips = groups.map((g) => (g.sites.length === 1 ? siteTip(g.sites[0]) : clusterTip(g)));
    const alerting = data.filter((d) => (mode === 'warning' ? d.warn === 'red' || d.warn === 'orange'
      : d.prio === 'critical' || d.prio === 'high'));
    chart.setOption({ series: [
      { id: 'sites', data },
      { id: 'alerting', data: alerting.map((d) => ({ ...d, label: { show: false } })) },
    ] });
    el.dataset.sites = String(sites.length);
    el.dataset.markers = String(data.length);
    el.dataset.mode = mode;
    el.dataset.colours = data.map((d) => d.itemStyle.color).join(' '); // what is shown, for checks
  }

  const later = () => { if (!frame) frame = requestAnimationFrame(redrawPoints); };

  chart.on('georoam', later);
  chart.on('click', (p) => {
    if (p.componentType !== 'series' || !p.data) return;
    if (p.data.enterprise) { onPick(p.data.enterprise); return; }
    // a cluster: zoom in around it until its sites come apart
    const geo = chart.getOption().geo[0];
    chart.setOption({ geo: { center: p.data.value, zoom: (geo.zoom || 1) * CLUSTER_ZOOM } });
    later();
  });
  const resize = new ResizeObserver(() => { chart.resize(); later(); });
  resize.observe(el);

  // HTML built through the DOM (h()): the CSP allows no inline style, which ECharts'
  // default tooltip markup carries
  const tooltip = {
    trigger: 'item', confine: true, className: 'map-tooltip', borderWidth: 0,
    backgroundColor: 'transparent', padding: 0,
    formatter: (p) => (p.seriesId === 'sites' && tips[p.dataIndex]) || '',
  };

  function baseOption(mapName, emphasisCities) {
    return {
      backgroundColor: 'transparent',
      tooltip,
      geo: {
        map: mapName, roam: ROAM, zoom: 1, center: null, scaleLimit: { min: 1, max: 40 },
        layoutCenter: ['50%', '50%'], layoutSize: '96%', selectedMode: false,
        label: { show: true, color: '#6f86a6', fontSize: 12 },
        itemStyle: { areaColor: '#16283f', borderColor: '#4a6a92', borderWidth: 1 },
        emphasis: { label: { color: '#e6edf5' }, itemStyle: { areaColor: '#1e3a5c' } },
        regions: regionsOf(emphasisCities),
      },
      series: [
        {
          id: 'alerting', type: 'effectScatter', coordinateSystem: 'geo', silent: true, z: 2,
          animation: false,
          rippleEffect: { scale: 2.6, brushType: 'stroke' }, data: [],
        },
        {
          // no grow-in animation: a redraw (an alarm, a resize) must never blank a marker
          id: 'sites', type: 'scatter', coordinateSystem: 'geo', z: 3, data: [], animation: false,
          labelLayout: { hideOverlap: true }, emphasis: { scale: 1.3 }, cursor: 'pointer',
        },
      ],
    };
  }

  return {
    chart,
    /** The whole province again, as first drawn. */
    reset() {
      chart.setOption({ geo: { center: null, zoom: 1 } });
      later();
    },
    /** Colour by 'warning' or 'alarm' from the next draw on (redrawn at once if drawn). */
    colourBy(m) {
      mode = m;
      if (province) redrawPoints();
    },
    async draw(list, state, warnings = new Map()) {
      const all = sitesOf(list, state, warnings);
      sites = all.filter((s) => s.location);
      note.replaceChildren();
      const unlocated = all.filter((s) => !s.location);
      if (unlocated.length) {
        note.append('无坐标：', ...unlocated.map((s) => h('button', {
          type: 'button', class: `dot-label p-${s.prio}`, dataset: { enterprise: s.code },
          onclick: () => onPick(s.code),
        }, h('i'), s.name)));
      }
      const code = provinceOf(state, all);
      const have = await loadProvince(code).catch((e) => {
        console.warn('省界数据加载失败', e); return false;
      });
      if (chart.isDisposed()) return '';
      // the cities holding listed enterprises are shaded a little lighter
      const withSites = [...new Set(sites.map((s) => s.region.slice(0, 4)))];
      const names = cityNames(have ? `p${code}` : null, withSites);
      const mapName = have ? `p${code}` : frameMap(sites);
      if (province !== mapName || !have) {
        // a new map: reset the view; on the same map keep the officer's zoom and pan
        chart.clear();
        chart.setOption(baseOption(mapName, names));
        province = mapName;
      } else {
        chart.setOption({ geo: { regions: regionsOf(names) } });
      }
      if (have) el.dataset.map = code;
      else delete el.dataset.map;
      redrawPoints();
      return have ? PROVINCE_MAPS[code] : '';
    },
    dispose() {
      resize.disconnect();
      if (frame) cancelAnimationFrame(frame);
      chart.dispose();
    },
  };
}

const regionsOf = (names) => names.map((name) => ({ name, itemStyle: { areaColor: '#1d3a5e' } }));

/** The names of a registered map's cities (features by 6-digit code) whose 4-digit prefix is listed. */
function cityNames(mapName, prefixes) {
  if (!mapName) return [];
  const map = echarts.getMap(mapName);
  if (!map) return [];
  return map.geoJSON.features.filter((f) => prefixes.includes(String(f.id).slice(0, 4)))
    .map((f) => f.properties.name);
}

/**
 * Without a vendored province: the sites on a plain frame around them (a one-feature map
 * of their bounding box), so they are still placed, clustered and clickable.
 */
function frameMap(sites) {
  const lons = sites.map((s) => s.location.lon);
  const lats = sites.map((s) => s.location.lat);
  const pad = 0.3;
  const [w, e, s, n] = sites.length
    ? [Math.min(...lons) - pad, Math.max(...lons) + pad, Math.min(...lats) - pad, Math.max(...lats) + pad]
    : [118, 122, 31, 35];
  echarts.registerMap('frame', { type: 'FeatureCollection', features: [{
    type: 'Feature', properties: { name: '' },
    geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] },
  }] });
  return 'frame';
}
