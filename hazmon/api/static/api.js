// The API client: bearer token kept in sessionStorage, JSON calls, and the alarm stream
// read with fetch() (EventSource cannot send an Authorization header).

const KEY = 'hazmon.token';
const BASE = '/api/v1';

export class Unauthorized extends Error {}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v == null || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

export async function call(method, path, { params, body, signal } = {}) {
  const t = token.get();
  if (!t) throw new Unauthorized('no token');
  const headers = { Authorization: `Bearer ${t}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(BASE + path + query(params), {
    method, headers, signal, cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401) throw new Unauthorized('token refused');
  let data = null;
  try { data = await r.json(); } catch { /* empty or not JSON */ }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

export const get = (path, params, signal) => call('GET', path, { params, signal });
export const post = (path, body) => call('POST', path, { body });

/**
 * Fetches `path` with the token and hands the answer to the browser as a file named
 * `filename` (CSV, HTML reports): a plain <a download> cannot send the Authorization header.
 */
export async function download(path, params, filename) {
  const t = token.get();
  if (!t) throw new Unauthorized('no token');
  const r = await fetch(BASE + path + query(params),
    { headers: { Authorization: `Bearer ${t}` }, cache: 'no-store' });
  if (r.status === 401) throw new Unauthorized('token refused');
  if (!r.ok) {
    let data = null;
    try { data = await r.json(); } catch { /* not JSON */ }
    throw new ApiError(r.status, data);
  }
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Every item of an offset-paged registry list. */
export async function getAll(path, params = {}) {
  const items = [];
  let offset = 0;
  for (;;) {
    const page = await get(path, { ...params, limit: 500, offset });
    items.push(...page.items);
    if (page.next_offset == null) return items;
    offset = page.next_offset;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Follows /alarms/stream until stop() is called, reconnecting with back-off.
 * handlers: onStatus('connecting' | 'live' | 'retry' | 'stopped'), onConnected()
 * (reload the list: the server subscribes before its first byte, so nothing is missed
 * after that), onEvent(name, data), onUnauthorized().
 */
export function followAlarms(handlers) {
  let stopped = false;
  let ctrl = null;
  const STALE_MS = 45000; // the server sends a heartbeat every 15 s

  async function once() {
    ctrl = new AbortController();
    const t = token.get();
    if (!t) throw new Unauthorized('no token');
    const r = await fetch(`${BASE}/alarms/stream`, {
      headers: { Authorization: `Bearer ${t}`, Accept: 'text/event-stream' },
      signal: ctrl.signal, cache: 'no-store',
    });
    if (r.status === 401) throw new Unauthorized('token refused');
    if (!r.ok || !r.body) throw new ApiError(r.status, null);
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let last = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - last > STALE_MS) ctrl.abort();
    }, 5000);
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        last = Date.now();
        buf += value;
        buf = buf.replace(/\r\n?/g, '\n');
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          block(buf.slice(0, i));
          buf = buf.slice(i + 2);
        }
      }
    } finally {
      clearInterval(watchdog);
    }
  }

  function block(text) {
    let name = 'message';
    const data = [];
    for (const line of text.split('\n')) {
      if (line.startsWith(': connected')) {
        handlers.onStatus('live');
        handlers.onConnected();
      } else if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) {
      try { handlers.onEvent(name, JSON.parse(data.join('\n'))); } catch (e) { console.error(e); }
    }
  }

  (async () => {
    let backoff = 1000;
    while (!stopped) {
      handlers.onStatus('connecting');
      const started = Date.now();
      try {
        await once();
      } catch (e) {
        if (e instanceof Unauthorized) {
          stopped = true;
          handlers.onStatus('stopped');
          handlers.onUnauthorized();
          return;
        }
      }
      if (stopped) break;
      if (Date.now() - started > 30000) backoff = 1000; // it had been up for a while
      handlers.onStatus('retry');
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 30000);
    }
    handlers.onStatus('stopped');
  })();

  return { stop() { stopped = true; if (ctrl) ctrl.abort(); } };
}
