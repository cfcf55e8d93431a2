// fetch wrappers for the tests: one that records every request, one that
// injects failures, and a minimal cookie jar (Node's fetch keeps no cookies).

/**
 * A fetch that records each request as { method, path, headers } before
 * handing it to `inner`. `inner` may be another wrapper.
 */
export function recordingFetch(inner = fetch) {
  const calls = [];
  const f = async (input, init = {}) => {
    const url = new URL(input);
    calls.push({ method: (init.method ?? 'GET').toUpperCase(), path: url.pathname, search: url.search, headers: new Headers(init.headers) });
    return inner(input, init);
  };
  f.calls = calls;
  /** How many requests matched method and path. */
  f.count = (method, path) => calls.filter((c) => c.method === method && c.path === path).length;
  return f;
}

/**
 * A fetch that asks `fault(request)` first: it may return a Response to
 * answer instead of the server, throw to simulate a network error, or
 * return undefined to let the request through.
 */
export function faultyFetch(fault, inner = fetch) {
  return async (input, init = {}) => {
    const url = new URL(input);
    const answer = await fault({ method: (init.method ?? 'GET').toUpperCase(), path: url.pathname, init });
    return answer ?? inner(input, init);
  };
}

/** A JSON error answer as the server writes it. */
export function errorResponse(status, code) {
  return new Response(JSON.stringify({ error: code, message: `simulated ${code}` }), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

/** A network error as fetch reports it. */
export function networkFailure() {
  return new TypeError('fetch failed (simulated)');
}

/**
 * A fetch with a cookie jar for one origin: sends the cookies whose path
 * matches, stores Set-Cookie answers (Max-Age <= 0 deletes). Enough for the
 * cookie transport; not a general implementation.
 */
export function cookieJarFetch(inner = fetch) {
  const jar = new Map(); // `${name} ${path}` -> { name, value, path }
  const f = async (input, init = {}) => {
    const url = new URL(input);
    const headers = new Headers(init.headers);
    const cookies = [...jar.values()]
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`);
    if (cookies.length > 0) headers.set('Cookie', cookies.join('; '));
    const res = await inner(input, { ...init, headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let maxAge;
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        if (k.toLowerCase() === 'path') path = v;
        if (k.toLowerCase() === 'max-age') maxAge = Number(v);
      }
      const key = `${name} ${path}`;
      if (value === '' || (maxAge !== undefined && maxAge <= 0)) jar.delete(key);
      else jar.set(key, { name, value, path });
    }
    return res;
  };
  /** The value of a cookie in the jar, or undefined. */
  f.cookie = (name) => [...jar.values()].find((c) => c.name === name)?.value;
  f.jar = jar;
  return f;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
