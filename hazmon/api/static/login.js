// The login dialog: the officer pastes an API token; it is kept in sessionStorage (api.js)
// and checked by signing in with it. There is no way past the dialog without one.

import * as api from './api.js';
import { $, markup } from './ui.js';

const MARKUP = `
<dialog id="login-dlg" class="dlg">
  <form id="login-form" method="dialog">
    <h2>监测中心登录</h2>
    <p class="muted">请粘贴API令牌（hzm_…，由管理员用 <code>hazmon token create</code> 签发）。
      令牌仅保存在本浏览器标签页中。</p>
    <input id="login-token" type="password" autocomplete="off" spellcheck="false"
           placeholder="hzm_..." required>
    <p id="login-error" class="error"></p>
    <div class="dlg-actions"><button type="submit" id="login-ok">登录</button></div>
  </form>
</dialog>`;

/**
 * Adds the dialog to the page. signIn(): starts the session with the stored token and
 * throws if the token is refused or the service cannot be reached. Returns {show(message)}.
 */
export function createLogin(signIn) {
  document.body.append(markup(MARKUP));
  const dlg = $('#login-dlg');
  const input = $('#login-token');
  const error = $('#login-error');
  const ok = $('#login-ok');

  $('#login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    api.token.set(t);
    ok.disabled = true;
    try {
      await signIn();
      input.value = '';
      dlg.close();
    } catch (e) {
      api.token.clear();
      error.textContent = e instanceof api.Unauthorized
        ? '令牌无效或已被吊销' : `无法连接服务：${e.message || e}`;
    } finally {
      ok.disabled = false;
    }
  });
  dlg.addEventListener('cancel', (ev) => ev.preventDefault()); // Esc does not get past it

  return {
    show(message = '') {
      error.textContent = message;
      if (!dlg.open) dlg.showModal();
      input.focus();
    },
  };
}
