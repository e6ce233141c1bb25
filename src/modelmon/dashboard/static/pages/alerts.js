// Alerts: state, history, acknowledge and silence. Writes need an API token once the server
// has one; the token is kept for this browser tab only (sessionStorage).

import { ApiError, api, reportError, setToken, token } from '../api.js';
import { badge, esc, modelHash, num, table, time } from '../format.js';
import { setTitle } from './common.js';

const NAME_KEY = 'modelmon.user';
const DURATIONS = [['1 hour', 3600], ['4 hours', 4 * 3600], ['1 day', 86400], ['1 week', 7 * 86400]];

export async function alertsPage(main, params, query, current) {
  setTitle('Alerts');
  const state = query.has('state') ? query.get('state') : 'ALARM';
  const model = query.get('model') || '';
  const search = new URLSearchParams();
  if (state) search.set('state', state);
  if (model) search.set('model', model);
  main.innerHTML = `<section data-page="alerts">
    <h1>Alerts</h1>
    <form class="filters" id="alert-filter">
      <label>State <select name="state">
        ${['ALARM', 'OK', 'INSUFFICIENT_DATA', ''].map((s) => `<option value="${s}"${s === state ? ' selected' : ''}>${s || 'any'}</option>`).join('')}
      </select></label>
      <label>Model <input name="model" value="${esc(model)}" placeholder="any"></label>
      <button type="submit">Show</button>
    </form>
    <details class="settings"><summary>Your name and API token</summary>
      <p class="muted">Acknowledging and silencing record who did it. A server with API tokens needs one for changes; it is kept in this tab only.</p>
      <label>Name <input id="user-name" value="${esc(localStorage.getItem(NAME_KEY) || '')}" placeholder="dashboard"></label>
      <label>API token <input id="api-token" type="password" value="${esc(token())}" autocomplete="off"></label>
    </details>
    <div id="alert-list"><p class="muted">Loading…</p></div>
  </section>`;
  main.querySelector('#alert-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const next = new URLSearchParams();
    next.set('state', form.get('state'));
    if (form.get('model')) next.set('model', form.get('model'));
    window.location.hash = `#/alerts?${next}`;
  });
  main.querySelector('#user-name').addEventListener('change', (e) => localStorage.setItem(NAME_KEY, e.target.value));
  main.querySelector('#api-token').addEventListener('change', (e) => setToken(e.target.value.trim()));
  const alerts = await api(`/api/v1/alerts?${search}`);
  if (!current()) return;
  drawList(main, alerts);
}

function who(main) {
  return main.querySelector('#user-name').value.trim() || 'dashboard';
}

function drawList(main, alerts) {
  const box = main.querySelector('#alert-list');
  if (!alerts.length) {
    box.innerHTML = '<p class="panel" data-no-alerts>No alert matches. All quiet.</p>';
    return;
  }
  box.innerHTML = table(
    ['Alert', 'Severity', 'Model', 'State', 'Since', 'Value', 'Message', 'Actions'],
    alerts.map((a) => [
      `<strong>${esc(a.rule_name)}</strong><br><span class="muted small">${esc(Object.entries(a.labels || {}).filter(([k]) => !['model', 'version'].includes(k)).map(([k, v]) => `${k}=${v}`).join(', '))}</span>`,
      esc(a.severity || '—'),
      `<a href="${modelHash(a.model)}">${esc(a.model)}</a> ${esc(a.version || '')}`,
      `${badge(a.state)}${a.acknowledged_at ? `<br><span class="small" data-acked>acknowledged by ${esc(a.acknowledged_by)}</span>` : ''}${a.silenced_until ? `<br><span class="small" data-silenced>silenced until ${time(a.silenced_until)}</span>` : ''}`,
      time(a.since),
      num(a.value),
      esc(a.message),
      `<div class="actions" data-alert="${a.id}">
        ${a.state === 'ALARM' && !a.acknowledged_at ? `<button type="button" data-ack="${a.id}">Acknowledge</button>` : ''}
        <button type="button" data-silence="${a.id}" aria-expanded="false">Silence…</button>
        <button type="button" data-history="${a.id}" aria-expanded="false">History</button>
      </div><div class="silence-slot"></div><div class="history-slot"></div>`,
    ]),
    { cls: 'alerts' },
  );
  const byId = new Map(alerts.map((a) => [String(a.id), a]));
  box.addEventListener('click', async (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    const cell = button.closest('td');
    if (button.dataset.ack) await acknowledge(main, button, byId.get(button.dataset.ack));
    else if (button.dataset.silence) silenceForm(main, cell.querySelector('.silence-slot'), button, byId.get(button.dataset.silence));
    else if (button.dataset.history) await history(cell.querySelector('.history-slot'), button, byId.get(button.dataset.history));
  });
}

async function write(path, body, what) {
  try {
    return await api(path, { method: 'POST', body });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      error.message += ' Enter an API token under "Your name and API token".';
    }
    error.method = 'POST';
    reportError(error, what);
    return null;
  }
}

async function acknowledge(main, button, alert) {
  button.disabled = true;
  const done = await write(`/api/v1/alerts/${alert.id}/acknowledge`, { by: who(main) }, `Acknowledging alert ${alert.id}`);
  if (done) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else button.disabled = false;
}

function silenceForm(main, slot, button, alert) {
  if (slot.firstChild) {
    slot.replaceChildren();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  button.setAttribute('aria-expanded', 'true');
  // Exact matchers ("=value") on every label of the alert's series: this alert, nothing wider.
  const labels = { model: alert.model, ...(alert.labels || {}) };
  const matchers = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, `=${v}`]));
  slot.innerHTML = `<form class="silence">
    <p class="small muted">Silences ${esc(Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', '))} for rule ${esc(alert.rule_name)}.</p>
    <label>For <select name="duration">${DURATIONS.map(([text, s]) => `<option value="${s}">${text}</option>`).join('')}</select></label>
    <label>Reason <input name="reason" required placeholder="why"></label>
    <button type="submit">Silence</button>
  </form>`;
  const form = slot.querySelector('form');
  form.querySelector('select').focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    form.querySelector('button').disabled = true;
    // Timed by the server's clock: the browser's may be off.
    let now = Date.now();
    try {
      now = Date.parse((await api('/api/v1/dashboard/info')).now);
    } catch (error) {
      reportError(error, 'Reading the server time');
    }
    const until = new Date(now + Number(data.get('duration')) * 1000).toISOString();
    const done = await write('/api/v1/alerts/silences', {
      matchers,
      rule_id: alert.rule_id,
      until,
      reason: String(data.get('reason')),
      created_by: who(main),
    }, `Silencing alert ${alert.id}`);
    if (done) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else form.querySelector('button').disabled = false;
  });
}

async function history(slot, button, alert) {
  if (slot.firstChild) {
    slot.replaceChildren();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  button.setAttribute('aria-expanded', 'true');
  try {
    const items = await api(`/api/v1/alerts/${alert.id}/history`);
    const list = Array.isArray(items) ? items : items.transitions || [];
    slot.innerHTML = list.length
      ? `<ol class="history">${list.map((h) => `<li>${time(h.at)}: ${esc(h.from ?? h.from_state)} → ${esc(h.to ?? h.to_state)}${h.value !== null && h.value !== undefined ? ` (${num(h.value)})` : ''} ${esc(h.message || '')}</li>`).join('')}</ol>`
      : '<p class="muted small">No transitions yet.</p>';
  } catch (error) {
    slot.innerHTML = `<p class="error-inline">${esc(error.message)}</p>`;
    reportError(error, `Loading the history of alert ${alert.id}`);
  }
}
