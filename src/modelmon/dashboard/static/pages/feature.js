import { api, reportError } from '../api.js';
import { barChart, lineChart } from '../charts.js';
import { badge, compact, esc, featureHash, modelHash, num, pct, table, time } from '../format.js';
import { breadcrumbs, fittedStart, rangePicker, rangeSeconds, setTitle } from './common.js';

const DONE = new Set(['Completed', 'CompletedWithViolations']);

export async function featurePage(main, [model, feature], query, current) {
  setTitle(`${feature} · ${model}`);
  const [rangeName, span] = rangeSeconds(query);
  const params = new URLSearchParams({ span });
  if (query.get('schedule')) params.set('schedule', query.get('schedule'));
  const data = await api(`/api/v1/models/${encodeURIComponent(model)}/features/${encodeURIComponent(feature)}?${params}`);
  if (!current()) return;
  const ex = data.executions;
  const keep = { schedule: query.get('schedule'), range: rangeName };
  const chosen = Number(query.get('execution')) || latestDone(ex);
  // Asked for now, drawn after the charts: the two requests overlap with the drawing.
  const pending = chosen ? loadDistribution(chosen, feature) : null;
  main.innerHTML = `<section data-page="feature">
    ${breadcrumbs([['#/', 'Models'], [modelHash(model), model], ['', feature]])}
    <div class="title-row"><h1>${esc(feature)}</h1>${rangePicker(rangeName, (name) => featureHash(model, feature, { ...keep, range: name, execution: query.get('execution') }))}</div>
    <dl class="facts">
      <dt>Kind</dt><dd>${esc(data.kind || '—')}</dd>
      <dt>Monitor</dt><dd>${esc(data.schedule)} (version ${esc(data.version)})</dd>
      <dt>Drift rule</dt><dd>${esc(data.method || '—')} above <span data-threshold>${num(data.threshold)}</span></dd>
      <dt>Executions in range</dt><dd data-executions>${ex.id.length} (${ex.violated.filter(Boolean).length} with a violation on this feature)</dd>
    </dl>
    <div id="drift-chart" class="chart-slot"></div>
    <div id="completeness-chart" class="chart-slot"></div>
    <h2 id="distribution-heading">Distribution</h2>
    <div class="filters"><label>Execution <select id="execution-picker"></select></label></div>
    <div id="distribution" aria-live="polite"></div>
  </section>`;

  const markers = [];
  ex.id.forEach((id, i) => {
    if (ex.violated[i]) markers.push({ t: ex.t[i], cls: 'violation', label: `Execution ${id}: violation on ${feature}`, href: featureHash(model, feature, { ...keep, execution: id }) });
    else if (ex.status[i] === 'Failed') markers.push({ t: ex.t[i], cls: 'failed', label: `Execution ${id}: failed`, href: `#/executions/${id}` });
  });
  const end = Date.parse(data.end) / 1000;
  const start = fittedStart(Date.parse(data.start) / 1000, end, data.drift.t, data.completeness.t, ex.t);
  // A click on the chart shows the distribution of the execution nearest in time.
  const pick = (index, series) => {
    const t = series.t[index];
    let best = -1;
    ex.t.forEach((et, i) => { if (DONE.has(ex.status[i]) && (best < 0 || Math.abs(et - t) < Math.abs(ex.t[best] - t))) best = i; });
    if (best >= 0) window.location.hash = featureHash(model, feature, { ...keep, execution: ex.id[best] });
  };
  lineChart(main.querySelector('#drift-chart'), {
    title: `Drift of ${feature} from the baseline (${data.method || 'distance'})`,
    series: [{ label: 'drift', t: data.drift.t, v: data.drift.v, cls: 's0' }],
    threshold: data.threshold,
    markers,
    start,
    end,
    onPick: pick,
  });
  lineChart(main.querySelector('#completeness-chart'), {
    title: `Completeness of ${feature} (share of rows with a value)`,
    series: [{ label: 'completeness', t: data.completeness.t, v: data.completeness.v, cls: 's1' }],
    start,
    end,
    height: 150,
    yFormat: pct,
    yMin: 0,
    yMax: 1,
  });

  const picker = main.querySelector('#execution-picker');
  const options = [];
  for (let i = ex.id.length - 1; i >= 0 && options.length < 200; i -= 1) {
    options.push(`<option value="${ex.id[i]}"${ex.id[i] === chosen ? ' selected' : ''}>#${ex.id[i]} · ${time(ex.t[i])} · ${esc(ex.status[i])}</option>`);
  }
  if (chosen && !ex.id.slice(-200).includes(chosen)) options.unshift(`<option value="${chosen}" selected>#${chosen}</option>`);
  picker.innerHTML = options.join('') || '<option value="">no execution in range</option>';
  picker.addEventListener('change', () => {
    window.location.hash = featureHash(model, feature, { ...keep, execution: picker.value });
  });
  const slot = main.querySelector('#distribution');
  if (!chosen) {
    slot.innerHTML = '<p class="muted">No completed execution in this range, so there is no distribution to show.</p>';
    return;
  }
  await distribution(slot, pending, feature);
}

function loadDistribution(executionId, feature) {
  const path = `/api/v1/executions/${executionId}/features/${encodeURIComponent(feature)}/distribution`;
  return api(path).then((data) => ({ data }), (error) => ({ error }));
}

function latestDone(ex) {
  for (let i = ex.id.length - 1; i >= 0; i -= 1) if (DONE.has(ex.status[i])) return ex.id[i];
  return null;
}

async function distribution(slot, pending, feature) {
  slot.innerHTML = '<p class="muted">Loading the distribution…</p>';
  const { data, error } = await pending;
  if (error) {
    slot.innerHTML = `<p class="error-inline" data-distribution-error>${esc(error.message)}</p>`;
    reportError(error, 'Loading the distribution');
    return;
  }
  const drift = data.drift;
  const verdict = drift ? (drift.drift ? badge('bad', 'drift') : drift.drift === false ? badge('ok', 'no drift') : badge('muted', 'not evaluated')) : '';
  const summaryKeys = [...new Set([...Object.keys(data.summary.baseline), ...Object.keys(data.summary.current)])];
  const top = (values) => {
    if (!values.length) return 'absent';
    let best = 0;
    values.forEach((v, i) => { if (v > values[best]) best = i; });
    return `most common ${data.labels[best]} (${pct(values[best])})`;
  };
  slot.innerHTML = `<div class="dist-head" data-execution="${data.execution_id}">
      <p>Execution <a href="#/executions/${data.execution_id}">#${data.execution_id}</a>, window ${time(data.window_start)} – ${time(data.window_end)} ${badge(data.status)} ${verdict}</p>
      ${drift && drift.rule ? `<p class="muted" data-rule>${esc(drift.rule)}</p>` : ''}
      ${data.violations.map((v) => `<p class="violation-line">${esc(v.check_type)}: ${esc(v.description)}</p>`).join('')}
    </div>
    <div class="dist-body"><div class="chart-slot" id="bars"></div>
    <div>${table(['', 'Baseline', 'Current'], summaryKeys.map((k) => [esc(k), num(data.summary.baseline[k]), num(data.summary.current[k])]), { cls: 'summary', caption: 'Summary statistics' })}
    <p><a href="/api/v1/executions/${data.execution_id}/report.html" target="_blank" rel="noopener">HTML report of this execution</a></p></div></div>`;
  barChart(slot.querySelector('#bars'), {
    title: `${feature}: baseline vs current (share of rows)`,
    labels: data.labels,
    axisLabels: data.kind === 'numeric' ? data.edges.slice(0, -1).map(compact) : data.labels,
    series: [
      { name: 'baseline', values: data.baseline, cls: 'baseline' },
      { name: 'current', values: data.current, cls: 'current' },
    ],
    summary: `Distribution of ${feature}: baseline ${top(data.baseline)}; current ${top(data.current)}.`,
  });
}
