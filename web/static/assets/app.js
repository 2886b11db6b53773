// The dashboard shell: navigation (#/page), the API key prompt and the
// session badge. Each page is a module exporting mount(root, ctx), which
// returns a function that stops its timers and streams.

import { api, session } from './api.js';
import { h, clear } from './ui.js';

const pages = {
  overview: () => import('./page-overview.js'),
  state: () => import('./page-state.js'),
  events: () => import('./page-events.js'),
  vectors: () => import('./page-vectors.js'),
  documents: () => import('./page-documents.js'),
  sql: () => import('./page-sql.js'),
  keys: () => import('./page-keys.js'),
};

const root = document.getElementById('page');
const prompt = document.getElementById('key-prompt');
const keyInput = document.getElementById('key-input');
let unmount = null;
let health = null;
let generation = 0;

async function loadHealth() {
  try {
    health = await api('GET', '/v1/health');
    session.auth = !!health.auth;
  } catch (e) {
    health = null;
  }
  renderSession();
}

function renderSession() {
  const el = document.getElementById('key-status');
  if (session.auth === false) {
    clear(el, h('span', { class: 'badge', title: 'No API key is configured: every request is accepted.' }, 'local mode'));
    return;
  }
  if (!session.key) {
    clear(el, h('button', { onclick: () => showPrompt('Enter an API key for this server.') }, 'Set API key'));
    return;
  }
  clear(el,
    h('span', { class: 'badge', title: 'Key in use (this tab only)' }, 'key …' + session.key.slice(-4)),
    ' ',
    h('button', { onclick: () => showPrompt('Enter another API key.') }, 'Change'),
    ' ',
    h('button', { onclick: () => { session.key = ''; renderSession(); showPrompt('Key forgotten. Enter an API key.'); } }, 'Forget'));
}

function showPrompt(reason) {
  document.getElementById('key-reason').textContent = reason;
  prompt.hidden = false;
  keyInput.value = '';
  keyInput.focus();
}

document.getElementById('key-form').addEventListener('submit', ev => {
  ev.preventDefault();
  session.key = keyInput.value.trim();
  prompt.hidden = true;
  renderSession();
  route();
});

// A 401 stops the page (no more failing polls) until a key is entered.
window.addEventListener('luma:unauthorized', ev => {
  if (!prompt.hidden) return;
  stopPage('An API key is needed to show this page.');
  const why = ev.detail ? ` (${ev.detail})` : '';
  showPrompt(session.key
    ? `The server rejected this API key${why}. Enter a valid key.`
    : `This server needs an API key${why}.`);
});

function stopPage(message) {
  generation++;
  if (unmount) { unmount(); unmount = null; }
  clear(root, h('p', { class: 'muted' }, message));
}

async function route() {
  const gen = ++generation;
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1] || 'overview';
  const load = pages[name] || pages.overview;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === name);
  if (unmount) { unmount(); unmount = null; }
  if (session.auth && !session.key) {
    stopPage('An API key is needed to show this page.');
    showPrompt('This server needs an API key.');
    return;
  }
  clear(root, h('p', { class: 'muted' }, 'Loading…'));
  const mod = await load();
  if (gen !== generation) return; // another navigation won
  clear(root);
  document.title = `Luma · ${name}`;
  unmount = mod.mount(root, { health, refreshHealth: loadHealth }) || null;
}

window.addEventListener('hashchange', route);

await loadHealth();
route();
