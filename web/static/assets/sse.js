// Server-sent events over fetch(): unlike EventSource this sends the key in
// a header (not the URL), delivers every event type, including user types
// the page cannot know in advance, and lets the caller resume from an offset.

import { authHeaders, ApiError } from './api.js';

// parseSSE feeds text chunks and calls onEvent({event, id, data}) per event.
export function sseParser(onEvent) {
  let buf = '', event = '', id = null, data = [];
  const dispatch = () => {
    if (data.length || event) onEvent({ event: event || 'message', id, data: data.join('\n') });
    event = ''; id = null; data = [];
  };
  return chunk => {
    buf += chunk;
    let nl;
    while ((nl = buf.search(/\r\n|\n|\r/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') { dispatch(); continue; }
      if (line.startsWith(':')) continue; // comment (keep-alive)
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      let value = c < 0 ? '' : line.slice(c + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
  };
}

// openStream connects to /v1/stream and reads until the signal aborts or
// the server ends the stream. It resolves when the stream ends and rejects
// with ApiError on a non-200 answer.
export async function openStream(params, { signal, onOpen, onEvent }) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  const res = await fetch('/v1/stream?' + q, { headers: { ...authHeaders(), Accept: 'text/event-stream' }, signal });
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    if (res.status === 401) {
      window.dispatchEvent(new CustomEvent('luma:unauthorized', { detail: body && body.message }));
    }
    throw new ApiError(res.status, body && body.error, body ? body.message : res.statusText, body);
  }
  onOpen && onOpen();
  const parse = sseParser(onEvent);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    parse(value);
  }
}
