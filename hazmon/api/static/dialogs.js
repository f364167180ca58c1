// The alarm dialogs: 搁置 (minutes and a reason) and 备注 (a comment). Each posts to the
// API and hands the alarm the server returned to onResult.

import * as api from './api.js';
import { $, markup } from './ui.js';

const MARKUP = `
<dialog id="shelve-dlg" class="dlg">
  <form id="shelve-form" method="dialog">
    <h2>搁置报警</h2>
    <p id="shelve-msg" class="muted"></p>
    <label>时长（分钟，1–1440）
      <input id="shelve-minutes" type="number" min="1" max="1440" step="1" value="30" required>
    </label>
    <label>原因（必填）<input id="shelve-reason" type="text" maxlength="2000" required></label>
    <p class="error" id="shelve-error"></p>
    <div class="dlg-actions">
      <button type="button" class="ghost" data-close>取消</button>
      <button type="submit">搁置</button>
    </div>
  </form>
</dialog>
<dialog id="comment-dlg" class="dlg">
  <form id="comment-form" method="dialog">
    <h2>添加备注</h2>
    <p id="comment-msg" class="muted"></p>
    <textarea id="comment-text" rows="4" maxlength="2000" required></textarea>
    <p class="error" id="comment-error"></p>
    <div class="dlg-actions">
      <button type="button" class="ghost" data-close>取消</button>
      <button type="submit">保存</button>
    </div>
  </form>
</dialog>`;

/**
 * Adds the dialogs to the page. ctx: the shell's services (failed, toast);
 * onResult(alarm): the alarm after the action. Returns {shelve(alarm), comment(alarm)}.
 */
export function createAlarmDialogs(ctx, onResult) {
  document.body.append(markup(MARKUP));
  let target = null; // the alarm the open dialog acts on

  for (const b of document.querySelectorAll('.dlg [data-close]')) {
    b.addEventListener('click', () => b.closest('dialog').close());
  }

  /** A dialog's submit: post, close, toast; an API refusal is shown in the dialog. */
  function onSubmit(name, what, post) {
    $(`#${name}-form`).addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const done = await post(encodeURIComponent(target.id));
        onResult(done.alarm);
        $(`#${name}-dlg`).close();
        ctx.toast(done.message);
      } catch (e) {
        if (e instanceof api.Unauthorized) ctx.failed(e, what);
        else $(`#${name}-error`).textContent = e.message;
      }
    });
  }

  onSubmit('shelve', '搁置', async (id) => {
    const minutes = Number($('#shelve-minutes').value);
    const reason = $('#shelve-reason').value.trim();
    return { alarm: await api.post(`/alarms/${id}/shelve`, { minutes, reason }),
      message: `已搁置 ${minutes} 分钟` };
  });
  onSubmit('comment', '备注', async (id) => {
    const text = $('#comment-text').value.trim();
    return { alarm: await api.post(`/alarms/${id}/comments`, { text }), message: '备注已保存' };
  });

  function open(name, alarm, field) {
    target = alarm;
    $(`#${name}-msg`).textContent = alarm.message;
    $(`#${name}-error`).textContent = '';
    $(field).value = '';
    $(`#${name}-dlg`).showModal();
  }

  return {
    shelve: (alarm) => open('shelve', alarm, '#shelve-reason'),
    comment: (alarm) => open('comment', alarm, '#comment-text'),
  };
}
