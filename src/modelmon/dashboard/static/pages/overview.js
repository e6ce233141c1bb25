import { api } from '../api.js';
import { ago, badge, esc, modelHash, num, plural, table } from '../format.js';
import { setTitle } from './common.js';

const HEALTH_ORDER = { alarm: 0, violations: 1, failing: 2, unknown: 3, ok: 4 };

export async function overviewPage(main) {
  setTitle('Models');
  const data = await api('/api/v1/overview');
  if (!data.models.length) {
    gettingStarted(main);
    return;
  }
  const t = data.totals;
  const now = Date.parse(data.generated_at);
  main.innerHTML = `<section data-page="overview">
    <h1>Models</h1>
    <ul class="cards" aria-label="Summary">
      <li class="card"><span class="big" data-total="models">${t.models}</span> models</li>
      <li class="card bad"><span class="big" data-total="violations">${(t.violations || 0) + (t.alarm || 0)}</span> in violation or alarm</li>
      <li class="card warn"><span class="big" data-total="failing">${t.failing || 0}</span> failing</li>
      <li class="card ok"><span class="big" data-total="ok">${t.ok || 0}</span> healthy</li>
      <li class="card"><a class="big" href="#/alerts" data-total="open_alerts">${t.open_alerts || 0}</a> open alerts</li>
    </ul>
    <div class="filters">
      <label>Find a model <input type="search" id="model-filter" autocomplete="off" placeholder="name"></label>
      <label>Health <select id="health-filter">
        <option value="">any</option><option value="alarm">alarm</option><option value="violations">violations</option>
        <option value="failing">failing</option><option value="ok">healthy</option><option value="unknown">no data</option>
      </select></label>
      <span class="muted" id="shown-count"></span>
    </div>
    <div id="model-table"></div>
  </section>`;
  const models = [...data.models].sort((a, b) => (HEALTH_ORDER[a.health] - HEALTH_ORDER[b.health]) || a.name.localeCompare(b.name));
  const draw = () => {
    const text = main.querySelector('#model-filter').value.trim().toLowerCase();
    const health = main.querySelector('#health-filter').value;
    const shown = models.filter((m) => (!text || m.name.toLowerCase().includes(text)) && (!health || m.health === health));
    main.querySelector('#shown-count').textContent = `${shown.length} of ${models.length} shown`;
    main.querySelector('#model-table').innerHTML = table(
      ['Model', 'Health', 'Monitors', 'Versions', 'Violations', 'Open alerts', 'Last run'],
      shown.map((m) => [
        `<a href="${modelHash(m.name)}" data-model="${esc(m.name)}">${esc(m.name)}</a>`,
        badge(m.health),
        monitorBadges(m),
        esc(m.versions.join(', ') || '—'),
        `<span data-violations>${num(m.violations)}</span>`,
        m.open_alerts ? `<a href="#/alerts?model=${encodeURIComponent(m.name)}" data-alerts>${m.open_alerts}</a>` : '<span data-alerts>0</span>',
        m.last_run ? `<time datetime="${esc(m.last_run)}" title="${esc(m.last_run)}">${ago(m.last_run, now)}</time>` : 'never',
      ]),
      { cls: 'models', caption: 'Every model with its monitors, last execution and open alerts' },
    );
  };
  main.querySelector('#model-filter').addEventListener('input', draw);
  main.querySelector('#health-filter').addEventListener('change', draw);
  draw();
}

function monitorBadges(model) {
  if (!model.monitors.length) return '<span class="muted">none</span>';
  return model.monitors.map((m) => {
    const last = m.last_execution;
    if (!last) return badge('Pending', `${m.monitor_type}: not run`);
    const text = m.violations ? `${m.monitor_type}: ${plural(m.violations, 'violation')}` : `${m.monitor_type}`;
    return `<a class="plain" href="#/executions/${last.id}" title="${esc(`${m.schedule}: ${last.status}${last.failure_reason ? ` (${last.failure_reason})` : ''}`)}">${badge(last.status, text)}</a>`;
  }).join(' ');
}

function gettingStarted(main) {
  setTitle('Get started');
  const origin = esc(window.location.origin);
  main.innerHTML = `<section class="panel start" data-page="getting-started">
    <h1>Welcome to modelmon</h1>
    <p class="lead">This server does not monitor any model yet. Here is how to start.</p>
    <h2>See it work in one command</h2>
    <pre><code>modelmon demo</code></pre>
    <p>Trains a small credit model, replays days of traffic with drift and outages, runs the monitors and fires alerts, then leaves this dashboard running with the results.</p>
    <h2>Or monitor your own model</h2>
    <ol class="steps">
      <li>Register the model and a version:
        <pre><code>modelmon models create credit --server ${origin}
modelmon models add-version credit v1 --server ${origin}</code></pre></li>
      <li>Attach a baseline computed from the training data:
        <pre><code>modelmon baselines compute credit v1 --dataset train.csv --server ${origin}</code></pre></li>
      <li>Capture inferences (the Python SDK, the ASGI middleware, <code>modelmon proxy</code>, or <code>POST /api/v1/captures</code>).</li>
      <li>Schedule a monitor:
        <pre><code>modelmon schedules create credit-hourly --model credit --version v1 --server ${origin}</code></pre></li>
    </ol>
    <p>Results appear here after the first scheduled run. The REST API is described at <a href="/openapi.json">/openapi.json</a>.</p>
  </section>`;
}
