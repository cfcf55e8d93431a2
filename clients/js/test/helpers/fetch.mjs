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

/** A JSON error answer as the server writes it; headers are added (WWW-Authenticate, Retry-After, …). */
export function errorResponse(status, code, headers = {}) {
  return jsonResponse(status, { error: code, error_description: `simulated ${code}` }, headers);
}

/**
 * The refresh route's refusal of a grant, as an OAuth token endpoint
 * answers it (RFC 6749 §5.2): 400 with the OAuth code (default
 * invalid_grant) and the specific reason.
 */
export function grantErrorResponse(reason, oauth = 'invalid_grant') {
  return jsonResponse(400, { error: oauth, error_description: `simulated ${reason}`, reason });
}

/** The specific code of a parsed error body: `reason` when present, else `error`. */
export function reasonOf(body) {
  return body?.reason ?? body?.error;
}

/** A JSON answer. */
export function jsonResponse(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/**
 * A fetch that never touches the network, for unit tests of the client's
 * side of the contract: `routes` maps 'METHOD /path' to a function of the
 * request `{method, path, headers, body}` (body: the JSON body parsed, or
 * undefined) returning a Response, or a promise of one. Any other request
 * answers 404. Wrap it in recordingFetch to count calls.
 */
export function fakeFetch(routes) {
  return async (input, init = {}) => {
    const url = new URL(input);
    const method = (init.method ?? 'GET').toUpperCase();
    const handler = routes[`${method} ${url.pathname}`];
    if (!handler) return errorResponse(404, 'not_found');
    const body = typeof init.body === 'string' && init.body !== '' ? JSON.parse(init.body) : undefined;
    return handler({ method, path: url.pathname, headers: new Headers(init.headers), body });
  };
}

/**
 * Token answers of a fake bearer server: each call of `pair()` is the JSON
 * of a new pair (access-1/refresh-1, access-2/refresh-2, …), living
 * `expiresIn` seconds.
 */
export function tokenIssuer({ expiresIn = 900, refreshExpiresIn = 86_400 } = {}) {
  let n = 0;
  return {
    pair() {
      n++;
      return jsonResponse(200, {
        access_token: `access-${n}`,
        refresh_token: `refresh-${n}`,
        token_type: 'Bearer',
        expires_in: expiresIn,
        refresh_expires_in: refreshExpiresIn,
      });
    },
  };
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
