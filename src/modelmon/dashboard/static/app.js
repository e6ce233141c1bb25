// The router: #/ (models), #/models/NAME, #/models/NAME/features/FEATURE, #/executions/ID,
// #/alerts. Anything else is the 404 page. A page is an async function(main, params, query);
// an ApiError 404 from it shows the 404 page with the server's message, any other error is
// shown in the page and in the banner, never swallowed.

import { ApiError, clearErrors, reportError } from './api.js';
import { notFound, errorPanel } from './pages/common.js';
import { overviewPage } from './pages/overview.js';
import { modelPage } from './pages/model.js';
import { featurePage } from './pages/feature.js';
import { executionPage } from './pages/execution.js';
import { alertsPage } from './pages/alerts.js';

const ROUTES = [
  [/^\/?$/, overviewPage, 'models'],
  [/^\/models\/([^/]+)\/?$/, modelPage, 'models'],
  [/^\/models\/([^/]+)\/features\/([^/]+)\/?$/, featurePage, 'models'],
  [/^\/executions\/(\d+)\/?$/, executionPage, 'models'],
  [/^\/alerts\/?$/, alertsPage, 'alerts'],
];

let generation = 0;

function parse(hash) {
  const body = hash.replace(/^#/, '') || '/';
  const [path, search = ''] = body.split('?');
  return { path, query: new URLSearchParams(search) };
}

async function render() {
  const hash = window.location.hash;
  // In-page anchors (the skip link) are not routes.
  if (hash && !hash.startsWith('#/')) return;
  const mine = ++generation;
  const main = document.getElementById('main');
  const { path, query } = parse(hash);
  clearErrors();
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  for (const item of document.querySelectorAll('[data-nav]')) {
    if (route && item.dataset.nav === route[2]) item.setAttribute('aria-current', 'page');
    else item.removeAttribute('aria-current');
  }
  if (!route) {
    notFound(main, `There is no page at ${path}.`);
    return;
  }
  const params = path.match(route[0]).slice(1).map(decodeURIComponent);
  main.setAttribute('aria-busy', 'true');
  try {
    await route[1](main, params, query, () => mine === generation);
  } catch (error) {
    if (mine !== generation) return;
    if (error instanceof ApiError && error.status === 404) {
      notFound(main, error.message);
    } else {
      errorPanel(main, error);
      reportError(error, 'Loading this page');
    }
  } finally {
    if (mine === generation) {
      main.removeAttribute('aria-busy');
      document.body.dataset.ready = String(mine);
    }
  }
}

document.querySelector('[data-skip]').addEventListener('click', (event) => {
  event.preventDefault();
  document.getElementById('main').focus();
});
window.addEventListener('hashchange', render);
render();
