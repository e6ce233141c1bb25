import { esc } from '../format.js';

export function setTitle(text) {
  document.title = text ? `${text} · modelmon` : 'modelmon';
}

export function notFound(main, message) {
  setTitle('Not found');
  main.innerHTML = `<section class="panel notfound" data-page="notfound">
    <h1>Not found</h1>
    <p class="lead">${esc(message)}</p>
    <p><a href="#/">Back to all models</a></p>
  </section>`;
  main.focus();
}

export function errorPanel(main, error) {
  setTitle('Error');
  const status = error.status ? `${error.status} ${error.type}` : error.name || 'Error';
  main.innerHTML = `<section class="panel error-panel" data-page="error">
    <h1>Something went wrong</h1>
    <p>${esc(status)}: ${esc(error.message)}</p>
    ${error.path ? `<p class="muted">Request: <code>${esc(error.path)}</code></p>` : ''}
    <p><button type="button" data-retry>Try again</button> <a href="#/">Back to all models</a></p>
  </section>`;
  main.querySelector('[data-retry]').addEventListener('click', () => window.dispatchEvent(new HashChangeEvent('hashchange')));
}

export function breadcrumbs(items) {
  const parts = items.map(([href, text], i) => (i === items.length - 1
    ? `<li aria-current="page">${esc(text)}</li>`
    : `<li><a href="${esc(href)}">${esc(text)}</a></li>`));
  return `<nav class="crumbs" aria-label="Breadcrumb"><ol>${parts.join('')}</ol></nav>`;
}

export const RANGES = [
  ['24h', 86400],
  ['7d', 7 * 86400],
  ['30d', 30 * 86400],
  ['90d', 90 * 86400],
  ['1y', 365 * 86400],
];

export function rangeSeconds(query, fallback = '30d') {
  const wanted = query.get('range') || fallback;
  const found = RANGES.find(([name]) => name === wanted) || RANGES.find(([name]) => name === fallback);
  return found;
}

export function rangePicker(current, hrefFor) {
  const links = RANGES.map(([name]) => `<a href="${esc(hrefFor(name))}" class="chip"${name === current ? ' aria-current="true"' : ''}>${name}</a>`);
  return `<nav class="ranges" aria-label="Time range">${links.join('')}</nav>`;
}

// The chart starts where the data does when that is later than the range's start, so five
// hours of history are not a sliver at the right of a 30-day axis.
export function fittedStart(rangeStart, end, ...times) {
  const firsts = times.filter((t) => t && t.length).map((t) => t[0]);
  if (!firsts.length) return rangeStart;
  const first = Math.min(...firsts);
  const pad = Math.max((end - first) * 0.03, 1800);
  return Math.max(rangeStart, first - pad);
}
