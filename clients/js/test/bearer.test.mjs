// The client in bearer mode against the real example server (ACCESS_TTL=2s,
// so tokens expire during the test). Failures of the store and the network
// are injected with fetch wrappers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { JwtGuardError, createClient, memoryStorage, secureStoreAdapter } from '../dist/index.js';
import { errorResponse, faultyFetch, networkFailure, recordingFetch, sleep } from './helpers/fetch.mjs';
import { exampleRoutes, startExample } from './helpers/server.mjs';

const alice = { username: 'alice', password: 'wonderland' };
let server;

before(async () => {
  server = await startExample({ env: { ACCESS_TTL: '2s' } });
});
after(async () => {
  await server?.stop();
});

/** A client of the test server; options override the defaults. */
function client(options = {}) {
  return createClient({ baseUrl: server.url, paths: exampleRoutes.bearer, retry: { baseDelay: 20, maxDelay: 100 }, ...options });
}

/** Calls the server without the client, as an attacker or a check would. */
async function raw(method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body) headers['Content-Type'] = 'application/json';
  const res = await fetch(server.url + path, { method, headers, body: body && JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Asserts that a raw refresh answer is 400 invalid_grant with the reason (RFC 6749 §5.2). */
function assertGrantRefused(res, reason) {
  assert.equal(res.status, 400);
  assert.equal(res.body.error, 'invalid_grant');
  assert.equal(res.body.reason, reason);
  assert.ok(res.body.error_description, 'an error_description');
}

/** Waits until the client sees its access token as expired. */
async function untilExpired(c) {
  const s = await c.getSession();
  await sleep(Math.max(0, s.accessExpiresAt - Date.now()) + 50);
}

/** Records the client's events. */
function events(c) {
  const seen = [];
  for (const type of ['signedIn', 'refreshed', 'signedOut']) c.on(type, (e) => seen.push({ type, ...e }));
  return seen;
}

describe('options', () => {
  test('the auth routes are required: no path is assumed', () => {
    assert.throws(() => createClient({ baseUrl: server.url }), { name: 'TypeError', message: /paths\.login is required/ });
    const { logout, ...partial } = exampleRoutes.bearer;
    assert.ok(logout);
    assert.throws(() => createClient({ baseUrl: server.url, paths: partial }), { name: 'TypeError', message: /paths\.logout is required/ });
    assert.throws(() => createClient({ baseUrl: server.url, paths: { ...partial, logout: '' } }), TypeError);
    assert.throws(() => createClient({ paths: exampleRoutes.bearer }), { name: 'TypeError', message: /baseUrl is required/ });
  });

  test('the configured routes are the ones called', async () => {
    const paths = { login: '/v2/session/new', refresh: '/v2/session/renew', logout: '/v2/session/end' };
    const f = recordingFetch(faultyFetch(() => errorResponse(401, 'invalid_credentials')));
    const c = client({ paths, fetch: f });
    await assert.rejects(c.login(alice), { code: 'invalid_credentials' });
    assert.deepEqual(f.calls.map((x) => `${x.method} ${x.path}`), ['POST /v2/session/new']);
  });
});

describe('login and request', () => {
  test('login stores both tokens and request sends the access token', async () => {
    const f = recordingFetch();
    const c = client({ fetch: f });
    const seen = events(c);
    const session = await c.login(alice);
    assert.equal(session.mode, 'bearer');
    assert.match(session.accessToken, /^ey/);
    assert.match(session.refreshToken, /^ey/);

    const res = await c.request('/api/me');
    assert.equal(res.status, 200);
    assert.equal((await res.json()).subject, 'u-1001');
    const call = f.calls.find((x) => x.path === '/api/me');
    assert.equal(call.headers.get('Authorization'), `Bearer ${session.accessToken}`);
    assert.deepEqual(seen.map((e) => e.type), ['signedIn']);
  });

  test('wrong password rejects with invalid_credentials and stores nothing', async () => {
    const c = client();
    await assert.rejects(c.login({ username: 'alice', password: 'nope' }), (err) => {
      assert.ok(err instanceof JwtGuardError);
      assert.equal(err.code, 'invalid_credentials');
      assert.equal(err.status, 401);
      return true;
    });
    assert.equal(await c.isSignedIn(), false);
    await assert.rejects(c.request('/api/me'), { code: 'not_signed_in' });
  });

  test('the token is never sent to another origin', async () => {
    const f = recordingFetch();
    const c = client({ fetch: f });
    await c.login(alice);
    await assert.rejects(c.request('https://elsewhere.invalid/api/me'), { code: 'cross_origin' });
    assert.equal(f.calls.filter((x) => x.path === '/api/me').length, 0);
    assert.equal((await c.request(`${server.url}/api/me`)).status, 200, 'an absolute URL of the same origin is fine');
  });
});

describe('single-flight refresh', () => {
  test('concurrent requests finding the access token expired send exactly one refresh', async () => {
    const f = recordingFetch();
    const c = client({ fetch: f, refreshMargin: 0 });
    const seen = events(c);
    const first = await c.login(alice);
    await untilExpired(c);

    const answers = await Promise.all(Array.from({ length: 10 }, () => c.request('/api/me')));
    assert.deepEqual(answers.map((r) => r.status), Array(10).fill(200));
    assert.equal(f.count('POST', '/auth/refresh'), 1, 'one refresh for ten requests');
    assert.equal(f.count('GET', '/api/me'), 10, 'no request was sent with the expired token');
    const now = await c.getSession();
    assert.notEqual(now.accessToken, first.accessToken);
    assert.equal(seen.filter((e) => e.type === 'refreshed').length, 1);
    // The rotation revoked the old pair at once.
    assert.equal((await raw('GET', '/api/me', { token: first.accessToken })).body.error, 'token_revoked');
  });

  test('concurrent 401 token_expired answers send exactly one refresh, then each request is retried once', async () => {
    // The server still accepts a just-expired token for its leeway (10 s),
    // so the 401 comes from a wrapper here; expiry.test.mjs waits for the
    // real one. The wrapper refuses the first access token only.
    let firstToken;
    const f = recordingFetch(
      faultyFetch(({ path, init }) => {
        const auth = new Headers(init.headers).get('Authorization');
        if (path === '/api/me' && auth === `Bearer ${firstToken}`) return errorResponse(401, 'token_expired');
      }),
    );
    const c = client({ fetch: f });
    firstToken = (await c.login(alice)).accessToken;

    const answers = await Promise.all(Array.from({ length: 8 }, () => c.request('/api/me')));
    assert.deepEqual(answers.map((r) => r.status), Array(8).fill(200));
    assert.equal(f.count('POST', '/auth/refresh'), 1);
    assert.equal(f.count('GET', '/api/me'), 16, 'each request sent twice: refused, then retried');
  });

  test('a second 401 after the refresh is final', async () => {
    const f = recordingFetch(faultyFetch(({ path }) => (path === '/api/me' ? errorResponse(401, 'token_expired') : undefined)));
    const c = client({ fetch: f });
    const seen = events(c);
    await c.login(alice);
    const res = await c.request('/api/me');
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error, 'token_expired', 'the second answer comes back unread');
    assert.equal(f.count('POST', '/auth/refresh'), 1);
    assert.equal(f.count('GET', '/api/me'), 2);
    assert.equal(await c.isSignedIn(), true, 'a final 401 of a request does not sign out');
    assert.equal(seen.filter((e) => e.type === 'signedOut').length, 0);
  });

  test('401s that a refresh cannot cure are returned as they are', async () => {
    const f = recordingFetch();
    const c = client({ fetch: f });
    await c.login({ username: 'bob', password: 'builder' });
    const res = await c.request('/api/password', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ current_password: 'wrong', new_password: 'whatever-123' }),
    });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error, 'invalid_credentials');
    assert.equal(f.count('POST', '/auth/refresh'), 0);
  });
});

describe('codes of guarded routes', () => {
  test('401 token_revoked (a token ahead of a store that lost a rotation) gets one refresh, which heals; no sign-out', async () => {
    let firstToken;
    const f = recordingFetch(
      faultyFetch(({ path, init }) => {
        const auth = new Headers(init.headers).get('Authorization');
        if (path === '/api/me' && auth === `Bearer ${firstToken}`) return errorResponse(401, 'token_revoked');
      }),
    );
    const c = client({ fetch: f });
    const seen = events(c);
    firstToken = (await c.login(alice)).accessToken;
    assert.equal((await c.request('/api/me')).status, 200);
    assert.equal(f.count('POST', '/auth/refresh'), 1);
    assert.equal(f.count('GET', '/api/me'), 2);
    assert.deepEqual(seen.map((e) => e.type), ['signedIn', 'refreshed']);
  });

  test('401 session_expired from a guarded route signs out at once, without a refresh', async () => {
    const f = recordingFetch(faultyFetch(({ path }) => (path === '/api/me' ? errorResponse(401, 'session_expired') : undefined)));
    const c = client({ fetch: f });
    const seen = events(c);
    await c.login(alice);
    await assert.rejects(c.request('/api/me'), { code: 'session_expired', status: 401, signedOut: true, retryable: false });
    assert.equal(f.count('POST', '/auth/refresh'), 0, 'no refresh can extend the absolute lifetime');
    assert.equal(await c.isSignedIn(), false);
    assert.deepEqual(seen.at(-1), { type: 'signedOut', reason: 'session_expired' });
  });
});

describe('store and network failures never wipe the tokens', () => {
  test('503 store_unavailable on refresh is retried with backoff; the tokens survive', async () => {
    let failures = 2;
    const f = recordingFetch(
      faultyFetch(({ path }) => {
        if (path === '/auth/refresh' && failures > 0) {
          failures--;
          return errorResponse(503, 'store_unavailable');
        }
      }),
    );
    const c = client({ fetch: f, refreshMargin: 0 });
    const seen = events(c);
    await c.login(alice);
    await untilExpired(c);
    const res = await c.request('/api/me');
    assert.equal(res.status, 200);
    assert.equal(f.count('POST', '/auth/refresh'), 3, 'two 503s, then success');
    assert.equal(seen.filter((e) => e.type === 'signedOut').length, 0);
  });

  test('a refresh that keeps failing rejects as retryable and keeps the tokens for later', async () => {
    let down = true;
    const f = recordingFetch(
      faultyFetch(({ path }) => {
        if (!down) return undefined;
        if (path === '/auth/refresh') return errorResponse(503, 'store_unavailable');
      }),
    );
    const c = client({ fetch: f, refreshMargin: 0, retry: { attempts: 3, baseDelay: 10, maxDelay: 20 } });
    const seen = events(c);
    const session = await c.login(alice);
    await untilExpired(c);

    await assert.rejects(c.request('/api/me'), (err) => {
      assert.equal(err.code, 'store_unavailable');
      assert.equal(err.status, 503);
      assert.equal(err.retryable, true);
      assert.equal(err.signedOut, false);
      return true;
    });
    assert.equal(f.count('POST', '/auth/refresh'), 3);
    assert.deepEqual(await c.getSession(), session, 'tokens untouched');

    down = false; // the store is back
    assert.equal((await c.request('/api/me')).status, 200);
    assert.equal(seen.filter((e) => e.type === 'signedOut').length, 0);
  });

  test('network errors on refresh keep the tokens', async () => {
    let down = true;
    const c = client({
      fetch: faultyFetch(({ path }) => {
        if (down && path === '/auth/refresh') throw networkFailure();
      }),
      refreshMargin: 0,
      retry: { attempts: 2, baseDelay: 10, maxDelay: 20 },
    });
    const session = await c.login(alice);
    await untilExpired(c);
    await assert.rejects(c.refresh(), { code: 'network_error', retryable: true, signedOut: false });
    assert.deepEqual(await c.getSession(), session);
    down = false;
    assert.notEqual((await c.refresh()).accessToken, session.accessToken);
  });

  test('idempotent requests are retried after 503 and network errors; POST is not', async () => {
    const faults = [errorResponse(503, 'store_unavailable'), networkFailure()];
    const f = recordingFetch(
      faultyFetch(({ path }) => {
        if (path !== '/api/me' || faults.length === 0) return undefined;
        const fault = faults.shift();
        if (fault instanceof Error) throw fault;
        return fault;
      }),
    );
    const c = client({ fetch: f });
    await c.login(alice);
    assert.equal((await c.request('/api/me')).status, 200);
    assert.equal(f.count('GET', '/api/me'), 3);

    faults.push(errorResponse(503, 'store_unavailable'));
    const res = await c.request('/api/me', { method: 'POST' });
    assert.equal(res.status, 503, 'a POST is not repeated by the client');
    assert.equal(await c.isSignedIn(), true);
  });
});

describe('logout', () => {
  test('logout sends the refresh token, clears the tokens and emits signedOut', async () => {
    const f = recordingFetch();
    const c = client({ fetch: f });
    const seen = events(c);
    const s = await c.login(alice);
    assert.deepEqual(await c.logout(), { revoked: true, queued: false });
    assert.equal(await c.isSignedIn(), false);
    assert.deepEqual(seen.at(-1), { type: 'signedOut', reason: 'logout' });
    assert.equal((await raw('GET', '/api/me', { token: s.accessToken })).body.error, 'token_revoked');
    assertGrantRefused(await raw('POST', '/auth/refresh', { body: { refresh_token: s.refreshToken } }), 'token_revoked');
    await assert.rejects(c.request('/api/me'), { code: 'not_signed_in' });
  });

  test('a logout that cannot reach the server clears locally, is queued and retried until revoked', async () => {
    let down = true;
    const storage = memoryStorage();
    const c = client({
      storage,
      fetch: faultyFetch(({ path }) => {
        if (down && path === '/auth/logout') throw networkFailure();
      }),
      logoutRetry: { baseDelay: 60_000, maxDelay: 60_000 }, // no timer retry during the test: flushed by hand
    });
    const s = await c.login(alice);
    assert.deepEqual(await c.logout(), { revoked: false, queued: true });
    assert.equal(await c.isSignedIn(), false, 'signed out locally at once');
    assert.equal(await c.pendingLogouts(), 1);
    assert.ok(storage.getItem('jwtguard.pending_logout'), 'the queue is persisted');
    assert.equal((await raw('GET', '/api/me', { token: s.accessToken })).status, 200, 'still alive on the server');

    down = false;
    assert.equal(await c.flushPendingLogouts(), 0);
    assert.equal((await raw('GET', '/api/me', { token: s.accessToken })).body.error, 'token_revoked');
    assertGrantRefused(await raw('POST', '/auth/refresh', { body: { refresh_token: s.refreshToken } }), 'token_revoked');
    assert.equal(storage.getItem('jwtguard.pending_logout'), null);
    c.close();
  });

  test('a queued logout (503) is sent by the next client created on the same storage', async () => {
    const storage = memoryStorage();
    const first = client({ storage, fetch: faultyFetch(({ path }) => (path === '/auth/logout' ? errorResponse(503, 'store_unavailable') : undefined)) });
    const s = await first.login(alice);
    assert.deepEqual(await first.logout(), { revoked: false, queued: true });
    first.close(); // the app is killed before any retry

    const next = client({ storage }); // the app starts again
    await next.ready;
    for (let i = 0; i < 100 && (await next.pendingLogouts()) > 0; i++) await sleep(20);
    assert.equal(await next.pendingLogouts(), 0);
    assertGrantRefused(await raw('POST', '/auth/refresh', { body: { refresh_token: s.refreshToken } }), 'token_revoked');
  });

  test("logout('others') keeps this device and signs the other devices out", async () => {
    const laptop = client();
    const phone = client();
    const phoneEvents = events(phone);
    await laptop.login(alice);
    await phone.login(alice);
    assert.deepEqual(await laptop.logout('others'), { revoked: true, queued: false });
    assert.equal((await laptop.request('/api/me')).status, 200);
    await assert.rejects(phone.request('/api/me'), { code: 'token_revoked', signedOut: true });
    assert.deepEqual(phoneEvents.at(-1), { type: 'signedOut', reason: 'token_revoked' });
    assert.equal(await phone.isSignedIn(), false);
  });

  test("logout('global') ends every session of the user", async () => {
    const laptop = client();
    const phone = client();
    await laptop.login(alice);
    await phone.login(alice);
    assert.deepEqual(await laptop.logout('global'), { revoked: true, queued: false });
    assert.equal(await laptop.isSignedIn(), false);
    await assert.rejects(phone.request('/api/me'), { code: 'token_revoked', signedOut: true });
  });

  test('logging in again ends the previous session of the client', async () => {
    const c = client();
    const first = await c.login(alice);
    await c.login(alice);
    assert.equal((await raw('GET', '/api/me', { token: first.accessToken })).body.error, 'token_revoked');
    assert.equal((await c.request('/api/me')).status, 200);
  });
});

describe('storage', () => {
  /** An AsyncStorage look-alike: every call is asynchronous. */
  function asyncStorage() {
    const items = new Map();
    const later = (v) => new Promise((resolve) => setTimeout(() => resolve(v), 1));
    return {
      items,
      getItem: (k) => later(items.get(k) ?? null),
      setItem: (k, v) => later(void items.set(k, v)),
      removeItem: (k) => later(void items.delete(k)),
    };
  }

  test('an AsyncStorage-shaped storage keeps the session across client instances', async () => {
    const storage = asyncStorage();
    const c = client({ storage });
    const s = await c.login(alice);
    assert.equal(JSON.parse(storage.items.get('jwtguard.session')).refreshToken, s.refreshToken);

    const restarted = client({ storage });
    assert.deepEqual(await restarted.getSession(), s);
    assert.equal((await restarted.request('/api/me')).status, 200);
    await restarted.logout();
    assert.equal(storage.items.has('jwtguard.session'), false);
  });

  test('secureStoreAdapter maps expo-secure-store', async () => {
    const items = new Map();
    const SecureStore = {
      getItemAsync: async (k) => items.get(k) ?? null,
      setItemAsync: async (k, v) => void items.set(k, v),
      deleteItemAsync: async (k) => void items.delete(k),
    };
    const c = client({ storage: secureStoreAdapter(SecureStore), storageKey: 'myapp_auth' });
    await c.login(alice);
    assert.deepEqual([...items.keys()], ['myapp_auth.session']);
    assert.equal((await c.request('/api/me')).status, 200);
    await c.logout();
    assert.equal(items.size, 0);
  });

  test('a refresh by another tab on shared storage is picked up without refreshing again', async () => {
    const storage = memoryStorage(); // stands for localStorage shared by two tabs
    const tab1 = client({ storage });
    const f = recordingFetch();
    const tab2 = client({ storage, fetch: f });
    await tab1.login(alice);
    assert.equal((await tab2.request('/api/me')).status, 200); // tab2 caches the pair
    await tab1.refresh(); // rotation: tab2's cached access token is now revoked
    const res = await tab2.request('/api/me');
    assert.equal(res.status, 200);
    assert.equal(f.count('POST', '/auth/refresh'), 0, 'tab2 retried with the stored pair');
    assert.equal(f.count('GET', '/api/me'), 3, 'one refused with the old token, then retried');
  });
});
