// Small page-wide UI pieces: the toast, badges shared by several parts, static markup.

import { h, tierLabel } from './fmt.js';

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/**
 * Static markup of a part (written in its module, never built from data: data goes in
 * through h() and textContent), parsed into a fragment.
 */
export function markup(html) {
  const t = document.createElement('template');
  t.innerHTML = html.trim();
  return t.content;
}

let toastTimer = 0;
export function toast(text, bad = false) {
  const el = $('#toast');
  el.textContent = text;
  el.className = `toast show${bad ? ' bad' : ''}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = 'toast'; }, 4000);
}

export function debounce(fn, ms) {
  let t = 0;
  return () => { clearTimeout(t); t = setTimeout(fn, ms); };
}

/** A segmented period switch: buttons with data-range in ms; onPick(ms) on a click. */
export function rangeSwitch(root, current, onPick) {
  const buttons = $$('button[data-range]', root);
  for (const b of buttons) {
    b.classList.toggle('active', Number(b.dataset.range) === current);
    b.addEventListener('click', () => {
      for (const o of buttons) o.classList.toggle('active', o === b);
      onPick(Number(b.dataset.range));
    });
  }
}

export const simBadge = () => h('span', { class: 'sim', title: '模拟数据，非真实工况' }, '模拟');
export const tierBadge = (t) => h('span', { class: `tier t${t || 0}` }, tierLabel(t));
/** The priority class of a worst alarm ('none' without one). */
export const prioOf = (worst) => (worst ? worst.priority : 'none');
