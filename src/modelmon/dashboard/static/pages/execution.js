import { api, reportError } from '../api.js';
import { badge, esc, featureHash, modelHash, num, table, time } from '../format.js';
import { breadcrumbs, setTitle } from './common.js';

export async function executionPage(main, [id], query, current) {
  setTitle(`Execution ${id}`);
  const e = await api(`/api/v1/executions/${id}`);
  if (!current()) return;
  const model = e.model;
  const isDq = e.monitor_type === 'DataQuality';
  main.innerHTML = `<section data-page="execution">
    ${breadcrumbs([['#/', 'Models'], [modelHash(model), model], ['', `Execution ${e.id}`]])}
    <div class="title-row"><h1>Execution #${e.id}</h1>${badge(e.status)}</div>
    <dl class="facts">
      <dt>Model</dt><dd><a href="${modelHash(model)}">${esc(model)}</a> (version ${esc(e.version)})</dd>
      <dt>Monitor</dt><dd>${esc(e.monitor_type)} · ${esc(e.schedule)}</dd>
      <dt>Window</dt><dd>${time(e.window_start)} – ${time(e.window_end)}</dd>
      <dt>Ran</dt><dd>${time(e.started_at)} – ${time(e.ended_at)}</dd>
      ${e.failure_reason ? `<dt>Failure reason</dt><dd data-failure>${esc(e.failure_reason)}</dd>` : ''}
      ${e.exit_message ? `<dt>Exit message</dt><dd>${esc(e.exit_message)}</dd>` : ''}
    </dl>
    <h2>Violations (<span data-violation-count>${e.violations.length}</span>)</h2>
    ${e.violations.length ? table(['Feature', 'Check', 'Description'], e.violations.map((v) => [
      isDq ? `<a href="${featureHash(model, v.feature, { schedule: e.schedule, execution: e.id })}">${esc(v.feature)}</a>` : esc(v.feature),
      esc(v.check_type),
      esc(v.description),
    ]), { cls: 'violations' }) : '<p>None.</p>'}
    <h2>Files</h2>
    <ul class="files">${e.output_files.map((name) => `<li><a href="/api/v1/executions/${e.id}/files/${encodeURIComponent(name)}">${esc(name)}</a></li>`).join('') || '<li class="muted">none</li>'}
    ${isDq && e.output_files.includes('statistics.json') ? `<li><a href="/api/v1/executions/${e.id}/report.html" data-report>HTML report</a> (one self-contained file)</li>` : ''}</ul>
    <div id="drift"></div>
  </section>`;
  if (isDq && e.output_files.includes('drift_report.json')) {
    try {
      const report = await api(`/api/v1/executions/${e.id}/files/drift_report.json`);
      if (!current()) return;
      main.querySelector('#drift').innerHTML = `<h2>Drift by feature</h2>${table(
        ['Feature', 'Kind', 'Method', 'Statistic', 'Threshold', 'Verdict'],
        report.features.map((f) => [
          `<a href="${featureHash(model, f.name, { schedule: e.schedule, execution: e.id })}">${esc(f.name)}</a>`,
          esc(f.kind),
          esc(f.method || '—'),
          num(f.statistic),
          num(f.threshold),
          f.drift === true ? badge('bad', 'drift') : f.drift === false ? badge('ok', 'ok') : `<span class="muted">${esc(f.reason || 'not evaluated')}</span>`,
        ]),
        { cls: 'drift' },
      )}`;
    } catch (error) {
      reportError(error, 'Loading the drift report');
    }
  }
}
