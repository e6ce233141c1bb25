// Small SVG charts: a time-series line chart (thresholds, marked executions, hover read-out)
// and grouped bars. Long series are thinned to the min and max of each pixel column, so a year
// of hourly points draws as fast as a day and still shows every spike. Every chart has an
// aria-label summary and a table of its numbers.

import { compact, esc, num, pct, table, time } from './format.js';

// Drawn at the container's own width, so text keeps its size on a phone and a wide screen.
function widthOf(container) {
  return Math.max(Math.round(container.clientWidth || 800), 280);
}
const PAD = { left: 52, right: 12, top: 14, bottom: 26 };

function niceTicks(lo, hi, count = 4) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const step = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 2, 2.5, 5, 10].map((m) => m * step).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + nice * 1e-9; v += nice) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function timeTicks(t0, t1, count = 6) {
  const span = t1 - t0;
  const steps = [3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 61 * 86400, 91 * 86400];
  const step = steps.find((s) => span / s <= count) || span / count;
  const ticks = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  return { ticks, step };
}

// A label near either edge is anchored to it, so it is never cut off.
function timeText(x, y, W, label) {
  const anchor = x > W - PAD.right - 40 ? 'end' : x < PAD.left + 20 ? 'start' : 'middle';
  return `<text class="axis" x="${x.toFixed(1)}" y="${y}" text-anchor="${anchor}">${esc(label)}</text>`;
}

function timeLabel(t, step) {
  const iso = new Date(t * 1000).toISOString();
  return step < 86400 ? iso.slice(5, 16).replace('T', ' ') : iso.slice(0, 10);
}

// Indices kept when drawing: first/min/max/last of every pixel column, in time order.
function thin(t, v, x0, scale, width) {
  if (t.length <= width * 2) return t.map((_, i) => i);
  const keep = [];
  let column = -1;
  let lo = -1;
  let hi = -1;
  let first = -1;
  let last = -1;
  const flush = () => {
    if (first < 0) return;
    const chosen = [...new Set([first, lo, hi, last])].filter((i) => i >= 0).sort((a, b) => a - b);
    keep.push(...chosen);
  };
  for (let i = 0; i < t.length; i += 1) {
    const c = Math.floor((t[i] - x0) * scale);
    if (c !== column) {
      flush();
      column = c;
      first = i; lo = -1; hi = -1;
    }
    last = i;
    if (v[i] !== null) {
      if (lo < 0 || v[i] < v[lo]) lo = i;
      if (hi < 0 || v[i] > v[hi]) hi = i;
    }
  }
  flush();
  return keep;
}

// The usual spacing of a series' points: the median gap (of at most 2,000 gaps sampled).
function typicalStep(t) {
  if (t.length < 3) return Infinity;
  const stride = Math.max(1, Math.floor(t.length / 2000));
  const gaps = [];
  for (let i = stride; i < t.length; i += stride) gaps.push(t[i] - t[i - stride]);
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1] / stride;
}

function bisect(t, x) {
  let lo = 0;
  let hi = t.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid] < x) lo = mid + 1; else hi = mid;
  }
  if (lo > 0 && Math.abs(t[lo - 1] - x) < Math.abs(t[lo] - x)) return lo - 1;
  return lo;
}

/**
 * lineChart(container, {title, series: [{label, t, v, cls}], threshold, start, end,
 *   markers: [{t, cls, label, href}], yFormat, height, onPick(index, seriesIndex)})
 */
export function lineChart(container, options) {
  const {
    title, series, threshold = null, markers = [], yFormat = num, height = 220, onPick = null,
  } = options;
  const W = widthOf(container);
  const H = height;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const all = series.flatMap((s) => s.t);
  const t0 = options.start ?? Math.min(...all, ...markers.map((m) => m.t));
  const t1 = options.end ?? Math.max(...all, ...markers.map((m) => m.t));
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) for (const v of s.v) if (v !== null) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (threshold !== null) { lo = Math.min(lo, threshold); hi = Math.max(hi, threshold); }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  if (lo > 0 && lo < hi * 0.5) lo = 0;
  if (options.yMin !== undefined) lo = Math.min(lo, options.yMin);
  if (options.yMax !== undefined) hi = Math.max(hi, options.yMax);
  if (hi === lo) { hi += Math.abs(hi) * 0.1 || 1; lo -= Math.abs(lo) * 0.1 || 0; }
  if (options.yMax === undefined || hi > options.yMax) hi += (hi - lo) * 0.05;
  const span = t1 > t0 ? t1 - t0 : 1;
  const sx = plotW / span;
  const x = (t) => PAD.left + (t - t0) * sx;
  const y = (v) => PAD.top + plotH - ((v - lo) / (hi - lo)) * plotH;

  const parts = [];
  for (const tick of niceTicks(lo, hi)) {
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}"/>`);
    parts.push(`<text class="axis" x="${PAD.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${esc(yFormat(tick))}</text>`);
  }
  const { ticks, step } = timeTicks(t0, t1, Math.max(2, Math.floor(plotW / 110)));
  for (const tick of ticks) parts.push(timeText(x(tick), H - 8, W, timeLabel(tick, step)));
  series.forEach((s, si) => {
    const keep = thin(s.t, s.v, t0, sx, plotW);
    // A run with no point (it failed) is a gap in the line, not a straight bridge over it.
    const gap = typicalStep(s.t) * 1.5;
    let d = '';
    let pen = false;
    let last = -1;
    for (const i of keep) {
      if (s.v[i] === null) { pen = false; continue; }
      if (last >= 0 && s.t[i] - s.t[last] > gap) pen = false;
      d += `${pen ? 'L' : 'M'}${x(s.t[i]).toFixed(1)} ${y(s.v[i]).toFixed(1)}`;
      pen = true;
      last = i;
    }
    parts.push(`<path class="line ${esc(s.cls || `s${si}`)}" d="${d}"/>`);
    if (s.t.length === 1 && s.v[0] !== null) {
      parts.push(`<circle class="dot ${esc(s.cls || `s${si}`)}" cx="${x(s.t[0]).toFixed(1)}" cy="${y(s.v[0]).toFixed(1)}" r="3"/>`);
    }
  });
  if (threshold !== null) {
    const ty = y(threshold).toFixed(1);
    parts.push(`<line class="threshold" x1="${PAD.left}" x2="${W - PAD.right}" y1="${ty}" y2="${ty}"/>`);
    parts.push(`<text class="axis threshold-label" x="${W - PAD.right - 4}" y="${ty - 4}" text-anchor="end">threshold ${esc(yFormat(threshold))}</text>`);
  }
  // Few markers are links (to their execution); many are one path, with the table for detail.
  if (markers.length <= 300) {
    for (const m of markers) {
      const mark = `<rect class="marker ${esc(m.cls)}" x="${(x(m.t) - 3).toFixed(1)}" y="${PAD.top + plotH - 8}" width="6" height="8"><title>${esc(m.label)}</title></rect>`;
      parts.push(m.href ? `<a href="${esc(m.href)}" aria-label="${esc(m.label)}">${mark}</a>` : mark);
    }
  } else {
    const byClass = {};
    for (const m of markers) byClass[m.cls] = (byClass[m.cls] || '') + `M${x(m.t).toFixed(1)} ${PAD.top + plotH}v-8`;
    for (const [cls, d] of Object.entries(byClass)) parts.push(`<path class="marker-path ${esc(cls)}" d="${d}"/>`);
  }
  parts.push(`<line class="axis-line" x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}"/>`);
  parts.push(`<line class="cursor" x1="0" x2="0" y1="${PAD.top}" y2="${PAD.top + plotH}" visibility="hidden"/>`);

  const summary = summarize(title, series, threshold, markers, yFormat);
  const legend = series.length > 1
    ? `<ul class="legend">${series.map((s, i) => `<li><span class="swatch ${esc(s.cls || `s${i}`)}"></span>${esc(s.label)}</li>`).join('')}</ul>`
    : '';
  container.innerHTML = `<figure class="chart">
    <figcaption>${esc(title)}</figcaption>${legend}
    <div class="plot"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(summary)}">${parts.join('')}</svg>
    <div class="tip" hidden></div></div>
    <details class="as-table"><summary>Data as a table</summary><div class="table-slot"></div></details>
  </figure>`;
  const details = container.querySelector('details');
  details.addEventListener('toggle', () => {
    if (details.open && !details.dataset.filled) {
      details.dataset.filled = '1';
      details.querySelector('.table-slot').innerHTML = dataTable(series, yFormat);
    }
  }, { once: false });
  interact(container, series, { W, x, t0, sx, yFormat, onPick });
  return summary;
}

function summarize(title, series, threshold, markers, yFormat) {
  const parts = [`${title}.`];
  for (const s of series) {
    const values = s.v.filter((v) => v !== null);
    if (!values.length) { parts.push(`${s.label}: no points.`); continue; }
    const last = values[values.length - 1];
    const min = Math.min(...values);
    const max = Math.max(...values);
    let text = `${s.label}: ${values.length} points from ${time(s.t[0])} to ${time(s.t[s.t.length - 1])}, min ${yFormat(min)}, max ${yFormat(max)}, latest ${yFormat(last)}`;
    if (threshold !== null) text += `, ${values.filter((v) => v > threshold).length} above the threshold ${yFormat(threshold)}`;
    parts.push(`${text}.`);
  }
  const flagged = markers.filter((m) => m.cls === 'violation').length;
  if (flagged) parts.push(`${flagged} executions with violations marked.`);
  return parts.join(' ');
}

function dataTable(series, yFormat) {
  // The newest 200 points of each series: a table of a year of hours helps no one.
  const rows = [];
  for (const s of series) {
    const start = Math.max(0, s.t.length - 200);
    for (let i = s.t.length - 1; i >= start; i -= 1) rows.push([esc(s.label), time(s.t[i]), esc(yFormat(s.v[i]))]);
  }
  const total = series.reduce((n, s) => n + s.t.length, 0);
  const note = total > rows.length ? `<p class="muted">The newest ${rows.length} of ${total} points.</p>` : '';
  return note + table(['Series', 'Time', 'Value'], rows);
}

function interact(container, series, { W, x, t0, sx, yFormat, onPick }) {
  const svg = container.querySelector('svg');
  const tip = container.querySelector('.tip');
  const cursor = svg.querySelector('.cursor');
  const main = series.find((s) => s.t.length) || null;
  if (!main) return;
  const at = (event) => {
    const box = svg.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * W;
    return bisect(main.t, t0 + (px - PAD.left) / sx);
  };
  svg.addEventListener('mousemove', (event) => {
    const i = at(event);
    const cx = x(main.t[i]);
    cursor.setAttribute('x1', cx);
    cursor.setAttribute('x2', cx);
    cursor.setAttribute('visibility', 'visible');
    const lines = series.map((s) => {
      const j = s === main ? i : bisect(s.t, main.t[i]);
      return `${esc(s.label)}: ${esc(yFormat(s.v[j]))}`;
    });
    tip.innerHTML = `<strong>${time(main.t[i])}</strong><br>${lines.join('<br>')}`;
    tip.hidden = false;
    const box = svg.getBoundingClientRect();
    const left = ((cx / W) * box.width);
    tip.style.left = `${Math.min(left + 8, box.width - 180)}px`;
  });
  svg.addEventListener('mouseleave', () => { tip.hidden = true; cursor.setAttribute('visibility', 'hidden'); });
  if (onPick) {
    svg.classList.add('pickable');
    svg.addEventListener('click', (event) => onPick(at(event), main));
  }
}

/** barChart(container, {title, labels, axisLabels, series: [{name, values, cls}], summary}) */
export function barChart(container, { title, labels, axisLabels = labels, series, summary, format = pct }) {
  const W = widthOf(container);
  const H = 240;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom - 16;
  const shown = series.filter((s) => s.values.length === labels.length);
  const peak = Math.max(0, ...shown.flatMap((s) => s.values.filter((v) => v !== null))) || 1;
  const y = (v) => PAD.top + plotH - (v / peak) * plotH;
  const parts = [];
  for (const tick of niceTicks(0, peak)) {
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}"/>`);
    parts.push(`<text class="axis" x="${PAD.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${esc(format(tick))}</text>`);
  }
  const slot = plotW / Math.max(labels.length, 1);
  const bar = Math.max((slot * 0.8) / Math.max(shown.length, 1), 1);
  const every = Math.max(1, Math.ceil(labels.length / Math.max(Math.floor(plotW / 70), 1)));
  labels.forEach((label, i) => {
    const x0 = PAD.left + i * slot + slot * 0.1;
    shown.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      parts.push(`<rect class="bar ${esc(s.cls)}" x="${(x0 + j * bar).toFixed(1)}" y="${y(v).toFixed(1)}" width="${Math.max(bar - 1, 0.5).toFixed(1)}" height="${(PAD.top + plotH - y(v)).toFixed(1)}"><title>${esc(s.name)} ${esc(label)}: ${esc(format(v))}</title></rect>`);
    });
    if (i % every === 0) {
      const text = String(axisLabels[i]);
      parts.push(`<text class="axis" x="${(PAD.left + i * slot + slot / 2).toFixed(1)}" y="${PAD.top + plotH + 14}" text-anchor="middle">${esc(text.length > 14 ? `${text.slice(0, 13)}…` : text)}</text>`);
    }
  });
  parts.push(`<line class="axis-line" x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}"/>`);
  const legend = `<ul class="legend">${shown.map((s) => `<li><span class="swatch ${esc(s.cls)}"></span>${esc(s.name)}</li>`).join('')}</ul>`;
  const rows = labels.map((label, i) => [esc(label), ...series.map((s) => (i < s.values.length ? esc(format(s.values[i])) : '—'))]);
  container.innerHTML = `<figure class="chart">
    <figcaption>${esc(title)}</figcaption>${legend}
    <div class="plot"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(summary)}">${parts.join('')}</svg></div>
    <details class="as-table"><summary>Data as a table</summary>${table([labels.length && axisLabels !== labels ? 'Bin' : 'Category', ...series.map((s) => s.name)], rows)}</details>
  </figure>`;
}

/** A strip of executions coloured by status, each a link to its page. */
export function runStrip(container, { title, executions, start, end }) {
  const W = widthOf(container);
  const H = 46;
  const plotW = W - PAD.left - PAD.right;
  const n = executions.id.length;
  const t0 = start;
  const span = Math.max(end - start, 1);
  const x = (t) => PAD.left + ((t - t0) / span) * plotW;
  const width = Math.max(Math.min(plotW / Math.max(n, 1) - 1, 14), 1);
  const counts = {};
  const parts = [];
  // Up to a few hundred runs are links; more are one path per status (a year of hourly runs
  // would otherwise be thousands of elements), the page's tables leading to each run.
  const linked = n <= 400;
  const paths = {};
  for (let i = 0; i < n; i += 1) {
    const status = executions.status[i];
    counts[status] = (counts[status] || 0) + 1;
    const left = (x(executions.t[i]) - width).toFixed(1);
    if (linked) {
      parts.push(`<a href="#/executions/${executions.id[i]}"><rect class="run ${esc(status)}" x="${left}" y="8" width="${width.toFixed(1)}" height="22"><title>${esc(`Execution ${executions.id[i]}, window ending ${time(executions.t[i])}: ${status}`)}</title></rect></a>`);
    } else {
      paths[status] = (paths[status] || '') + `M${left} 8h${width.toFixed(1)}v22h-${width.toFixed(1)}z`;
    }
  }
  for (const [status, d] of Object.entries(paths)) parts.push(`<path class="run ${esc(status)}" d="${d}"/>`);
  const { ticks, step } = timeTicks(t0, end, Math.max(2, Math.floor(plotW / 110)));
  for (const tick of ticks) parts.push(timeText(x(tick), H - 4, W, timeLabel(tick, step)));
  const summary = `${title}: ${n} executions; ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') || 'none in range'}.`;
  container.innerHTML = `<figure class="chart strip"><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(summary)}">${parts.join('')}</svg><p class="muted small">${esc(summary)}</p></figure>`;
}

export { compact };
