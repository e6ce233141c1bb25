// Formatting shared by every page. Times are shown in UTC, as the server records them.

export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

export function num(value, digits = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (typeof value !== 'number') return esc(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return value.toLocaleString('en-US');
  const size = Math.abs(value);
  if (size !== 0 && (size < 1e-3 || size >= 1e6)) return value.toExponential(2);
  return Number(value.toPrecision(digits)).toString();
}

export function compact(value) {
  const size = Math.abs(value);
  for (const [limit, suffix] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
    if (size >= limit) return `${Number((value / limit).toPrecision(3))}${suffix}`;
  }
  return Number(value.toPrecision(3)).toString();
}

export function pct(value) {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`;
}

function toDate(value) {
  return value instanceof Date ? value : typeof value === 'number' ? new Date(value * 1000) : new Date(value);
}

export function time(value) {
  if (value === null || value === undefined) return '—';
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return esc(value);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function ago(value, now = Date.now()) {
  if (!value) return 'never';
  const seconds = Math.round((now - toDate(value).getTime()) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const text = s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min`
    : s < 129600 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

const STATUS_CLASS = {
  Completed: 'ok',
  CompletedWithViolations: 'bad',
  Failed: 'warn',
  InProgress: 'muted',
  Pending: 'muted',
  Stopped: 'muted',
  ok: 'ok',
  violations: 'bad',
  alarm: 'bad',
  failing: 'warn',
  unknown: 'muted',
  ALARM: 'bad',
  OK: 'ok',
  INSUFFICIENT_DATA: 'muted',
  bad: 'bad',
  warn: 'warn',
};

const STATUS_TEXT = {
  CompletedWithViolations: 'Violations',
  InProgress: 'Running',
  ok: 'Healthy',
  violations: 'Violations',
  alarm: 'Alarm',
  failing: 'Failing',
  unknown: 'No data',
  INSUFFICIENT_DATA: 'Insufficient data',
};

export function badge(status, text) {
  const cls = STATUS_CLASS[status] || 'muted';
  return `<span class="badge ${cls}">${esc(text ?? STATUS_TEXT[status] ?? status)}</span>`;
}

export function statusClass(status) {
  return STATUS_CLASS[status] || 'muted';
}

export function link(hash, text) {
  return `<a href="${esc(hash)}">${esc(text)}</a>`;
}

export function modelHash(model) {
  return `#/models/${encodeURIComponent(model)}`;
}

export function featureHash(model, feature, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const tail = query.toString() ? `?${query}` : '';
  return `#/models/${encodeURIComponent(model)}/features/${encodeURIComponent(feature)}${tail}`;
}

export function table(headers, rows, { caption = '', cls = '' } = {}) {
  const head = headers.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  const cap = caption ? `<caption>${esc(caption)}</caption>` : '';
  return `<div class="table-wrap"><table class="${cls}">${cap}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

export function plural(count, word) {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
