import { api, reportError } from '../api.js';
import { lineChart, runStrip } from '../charts.js';
import { badge, esc, featureHash, modelHash, num, plural, table, time } from '../format.js';
import { breadcrumbs, fittedStart, rangePicker, rangeSeconds, setTitle } from './common.js';

export async function modelPage(main, [model], query, current) {
  setTitle(model);
  const [rangeName, span] = rangeSeconds(query);
  const data = await api(`/api/v1/models/${encodeURIComponent(model)}/summary`);
  if (!current()) return;
  const hrefFor = (name) => `${modelHash(model)}?range=${name}`;
  main.innerHTML = `<section data-page="model">
    ${breadcrumbs([['#/', 'Models'], [modelHash(model), model]])}
    <div class="title-row"><h1>${esc(data.name)}</h1>${rangePicker(rangeName, hrefFor)}</div>
    ${data.description ? `<p class="lead">${esc(data.description)}</p>` : ''}
    <dl class="facts">
      <dt>Problem type</dt><dd>${esc(data.problem_type)}</dd>
      <dt>Versions</dt><dd>${esc(data.versions.map((v) => v.version).join(', ') || 'none')}</dd>
      <dt>Open alerts</dt><dd><a href="#/alerts?model=${encodeURIComponent(model)}" data-open-alerts>${data.open_alerts}</a></dd>
    </dl>
    ${data.monitors.length ? '' : '<p class="panel">No monitor is scheduled for this model yet: create one with <code>modelmon schedules create</code> or <code>POST /api/v1/schedules</code>.</p>'}
    <div id="monitors"></div>
    <h2>Recent executions</h2>
    <div id="recent"></div>
  </section>`;
  const box = main.querySelector('#monitors');
  for (const monitor of data.monitors) {
    const card = document.createElement('section');
    card.className = 'monitor panel';
    card.dataset.schedule = monitor.schedule;
    box.append(card);
    monitorCard(card, model, monitor, span, rangeName);
  }
  main.querySelector('#recent').innerHTML = data.recent_executions.length
    ? table(['Execution', 'Schedule', 'Status', 'Window', 'Violations'], data.recent_executions.map((e) => [
      `<a href="#/executions/${e.id}">#${e.id}</a>`,
      esc(e.schedule),
      badge(e.status),
      `${time(e.window_start)} – ${time(e.window_end)}`,
      num(e.violations),
    ]))
    : '<p class="muted">No execution yet.</p>';
}

function monitorCard(card, model, monitor, span, rangeName) {
  const last = monitor.last_execution;
  const lastText = last
    ? `<a href="#/executions/${last.id}">${badge(last.status)}</a> window ending ${time(last.window_end)}${last.failure_reason ? ` — ${esc(last.failure_reason)}` : ''}`
    : '<span class="muted">not run yet</span>';
  card.innerHTML = `<h2>${esc(monitor.monitor_type)} <span class="muted small">${esc(monitor.schedule)} · version ${esc(monitor.version)} · ${esc(monitor.cron)} · ${esc(monitor.status)}</span></h2>
    <p>Last run: ${lastText}${monitor.violations ? ` · <strong>${plural(monitor.violations, 'violation')}</strong>` : ''}</p>
    <div class="strip-slot"></div>
    <div class="features-slot"></div>
    <div class="charts"></div>`;
  api(`/api/v1/schedules/${encodeURIComponent(monitor.schedule)}/timeline?span=${span}`)
    .then((timeline) => {
      const end = Date.parse(timeline.end) / 1000;
      runStrip(card.querySelector('.strip-slot'), {
        title: 'Executions (green: no violations, red: violations, amber: failed)',
        executions: timeline,
        start: fittedStart(Date.parse(timeline.start) / 1000, end, timeline.t),
        end,
      });
    })
    .catch((error) => reportError(error, `Loading the executions of ${monitor.schedule}`));
  if (monitor.features.length) {
    card.querySelector('.features-slot').innerHTML = `<h3>Features</h3>${table(
      ['Feature', 'Kind', 'Drift statistic', 'Threshold', 'Verdict'],
      monitor.features.map((f) => [
        `<a href="${featureHash(model, f.name, { schedule: monitor.schedule, range: rangeName })}" data-feature="${esc(f.name)}">${esc(f.name)}</a>`,
        esc(f.kind || '—'),
        `<span data-statistic>${num(f.statistic)}</span>`,
        num(f.threshold),
        f.drift === true ? badge('bad', 'drift') : f.drift === false ? badge('ok', 'ok') : `<span class="muted">${esc(f.reason || 'not evaluated')}</span>`,
      ]),
      { cls: 'features', caption: 'Drift of each feature in the latest execution with a drift report' },
    )}`;
  }
  const groups = new Map();
  for (const metric of monitor.metrics) {
    if (!groups.has(metric.name)) groups.set(metric.name, []);
    groups.get(metric.name).push(metric.labels);
  }
  const charts = card.querySelector('.charts');
  for (const name of groups.keys()) {
    const slot = document.createElement('div');
    slot.className = 'chart-slot';
    slot.innerHTML = `<p class="muted">Loading ${esc(name)}…</p>`;
    charts.append(slot);
    const params = new URLSearchParams({ name, span, schedule: monitor.schedule });
    params.append('match', `schedule="${monitor.schedule}"`);
    api(`/api/v1/timeseries?${params}`)
      .then((data) => drawMetric(slot, name, data))
      .catch((error) => {
        slot.innerHTML = `<p class="error-inline">Could not load ${esc(name)}: ${esc(error.message)}</p>`;
        reportError(error, `Loading ${name}`);
      });
  }
}

function seriesLabel(labels) {
  const extra = Object.entries(labels).filter(([k]) => !['model', 'version', 'monitor', 'schedule'].includes(k));
  return extra.length ? extra.map(([k, v]) => `${k}=${v}`).join(', ') : 'all';
}

function drawMetric(slot, name, data) {
  const series = data.series.slice(0, 8).map((s, i) => ({ label: seriesLabel(s.labels), t: s.t, v: s.v, cls: `s${i}` }));
  const ex = data.executions || { id: [], t: [], status: [] };
  const markers = [];
  ex.id.forEach((id, i) => {
    if (ex.status[i] === 'CompletedWithViolations' || ex.status[i] === 'Failed') {
      markers.push({ t: ex.t[i], cls: ex.status[i] === 'Failed' ? 'failed' : 'violation', label: `Execution ${id}: ${ex.status[i]}`, href: `#/executions/${id}` });
    }
  });
  const end = Date.parse(data.end) / 1000;
  lineChart(slot, {
    title: name,
    series,
    markers,
    start: fittedStart(Date.parse(data.start) / 1000, end, ex.t, ...series.map((s) => s.t)),
    end,
    height: 180,
  });
}
