// Every request of the dashboard goes through api(): errors become ApiError with the server's
// own message ({"error": {"type", "message"}}), so pages can show them instead of failing quietly.

export class ApiError extends Error {
  constructor(status, type, message, path) {
    super(message);
    this.status = status;
    this.type = type;
    this.path = path;
  }
}

const TOKEN_KEY = 'modelmon.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && token()) headers.authorization = `Bearer ${token()}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, 'NetworkError', `Cannot reach the modelmon server (${error.message}).`, path);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = data && data.error ? data.error : {};
    const message = detail.message || `${response.status} ${response.statusText || 'error'}`;
    throw new ApiError(response.status, detail.type || 'HTTPError', message, path);
  }
  return data;
}

// A banner at the top of the page; each message stays until dismissed.
export function reportError(error, what = 'The request') {
  const box = document.getElementById('errors');
  const item = document.createElement('div');
  item.className = 'error-item';
  const where = error.path ? ` (${error.method || 'GET'} ${error.path})` : '';
  const status = error.status ? `${error.status} ${error.type}: ` : '';
  item.innerHTML = '<p></p><button type="button" class="link">Dismiss</button>';
  item.querySelector('p').textContent = `${what} failed${where}: ${status}${error.message}`;
  item.querySelector('button').addEventListener('click', () => item.remove());
  box.append(item);
}

export function clearErrors() {
  document.getElementById('errors').replaceChildren();
}
