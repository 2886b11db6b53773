// HTTP access to the Luma API: the key (session storage), JSON in and out,
// errors as ApiError, and a window event when the server answers 401.

const KEY = 'luma.apiKey';

export const session = {
  auth: null, // from /v1/health: true when the server needs a key
  get key() { return sessionStorage.getItem(KEY) || ''; },
  set key(v) { v ? sessionStorage.setItem(KEY, v) : sessionStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
    this.body = body;
  }
}

export function authHeaders() {
  const k = session.key;
  return k ? { Authorization: 'Bearer ' + k } : {};
}

// api sends a request; body (any JSON value) is sent when not undefined.
// It resolves to the decoded answer, or {data, headers, status} with full.
export async function api(method, path, body, { full = false, headers = {}, signal } = {}) {
  const h = { ...authHeaders(), ...headers };
  const init = { method, headers: h, signal };
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'cannot reach the server: ' + e.message);
  }
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (type.startsWith('application/json') && text !== '') {
      try { data = JSON.parse(text); } catch { data = text; }
    } else {
      data = text;
    }
  }
  if (!res.ok) {
    const code = data && typeof data === 'object' ? data.error : '';
    const msg = data && typeof data === 'object' ? data.message : String(data || res.statusText);
    const err = new ApiError(res.status, code, msg, data);
    if (res.status === 401) {
      window.dispatchEvent(new CustomEvent('luma:unauthorized', { detail: msg }));
    }
    throw err;
  }
  return full ? { data, headers: res.headers, status: res.status } : data;
}

// enc percent-encodes one path segment (a key with "/" becomes %2F).
export const enc = encodeURIComponent;
