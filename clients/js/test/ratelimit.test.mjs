// Throttling: the server answers 429 too_many_requests with Retry-After on
// login, refresh, step-up or any route. A 429 is never a sign-out: the
// client keeps its tokens and reports a RateLimitedError with retryAfter
// (seconds). Likewise a 403 csrf_failed (such as a cookie-mode request from
// a foreign origin) keeps the session. Unit tests use a fake server; the
// example's own limits (account lockout, refreshes per session) and its
// origin check are then met for real.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { JwtGuardError, RateLimitedError, createClient } from '../dist/index.js';
import { cookieJarFetch, errorResponse, fakeFetch, jsonResponse, recordingFetch, sleep, tokenIssuer } from './helpers/fetch.mjs';
import { exampleRoutes, startExample } from './helpers/server.mjs';

const alice = { username: 'alice', password: 'wonderland' };
const FAKE = 'http://api.test';

/** A 429 as the server writes it; retryAfter undefined leaves Retry-After out. */
function tooMany(retryAfter) {
  return errorResponse(429, 'too_many_requests', retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) });
}

/**
 * A bearer client of a fake server whose refresh, login and GET /api/me
 * answers can be overridden by `answers.refresh()`, `answers.login()` and
 * `answers.me()` (undefined: the normal answer). The clock is `clock.now`.
 */
function fakeClient(answers = {}, options = {}) {
  const issuer = tokenIssuer({ expiresIn: 60 });
  const clock = { now: 1_700_000_000_000 };
  const f = recordingFetch(
    fakeFetch({
      'POST /auth/login': () => answers.login?.() ?? issuer.pair(),
      'POST /auth/refresh': () => answers.refresh?.() ?? issuer.pair(),
      'GET /api/me': () => answers.me?.() ?? jsonResponse(200, { subject: 'u-1001' }),
    }),
  );
  const c = createClient({ baseUrl: FAKE, paths: exampleRoutes.bearer, fetch: f, now: () => clock.now, retry: { baseDelay: 10, maxDelay: 50 }, ...options });
  const signedOut = [];
  c.on('signedOut', (e) => signedOut.push(e.reason));
  return { c, f, clock, signedOut };
}

describe('429 (fake server)', () => {
  test('429 at refresh keeps the tokens and rejects with RateLimitedError and the parsed retryAfter', async () => {
    let limited = true;
    const { c, f, clock, signedOut } = fakeClient({ refresh: () => (limited ? tooMany(30) : undefined) });
    const session = await c.login(alice);
    clock.now += 61_000; // the access token has expired

    await assert.rejects(c.refresh(), (err) => {
      assert.ok(err instanceof RateLimitedError);
      assert.ok(err instanceof JwtGuardError);
      assert.equal(err.name, 'RateLimitedError');
      assert.equal(err.code, 'too_many_requests');
      assert.equal(err.status, 429);
      assert.equal(err.retryAfter, 30);
      assert.equal(err.retryable, true);
      assert.equal(err.signedOut, false);
      return true;
    });
    assert.equal(f.count('POST', '/auth/refresh'), 1, 'Retry-After is longer than retry.maxDelay: not retried within the call');
    assert.deepEqual(await c.getSession(), session, 'tokens kept');

    // A request needing that refresh rejects the same way, without leaving.
    await assert.rejects(c.request('/api/me'), { name: 'RateLimitedError', retryAfter: 30, signedOut: false });
    assert.equal(f.count('GET', '/api/me'), 0);
    assert.deepEqual(await c.getSession(), session);
    assert.deepEqual(signedOut, []);

    limited = false; // Retry-After has passed
    assert.equal((await c.request('/api/me')).status, 200);
    assert.equal((await c.getSession()).refreshToken, 'refresh-2', 'the kept refresh token refreshed');
  });

  test('a 429 whose Retry-After fits in retry.maxDelay (or that has none) is waited out and the refresh retried', async () => {
    const answers = [tooMany(0), tooMany(undefined)];
    const { c, f, signedOut } = fakeClient({ refresh: () => answers.shift() });
    await c.login(alice);
    const next = await c.refresh();
    assert.equal(f.count('POST', '/auth/refresh'), 3);
    assert.equal(next.refreshToken, 'refresh-2');
    assert.deepEqual(signedOut, []);
  });

  test('a refresh answered 429 on every attempt rejects RateLimitedError, tokens kept', async () => {
    const { c, f } = fakeClient({ refresh: () => tooMany(0) }, { retry: { attempts: 3, baseDelay: 5, maxDelay: 10 } });
    const session = await c.login(alice);
    await assert.rejects(c.refresh(), { name: 'RateLimitedError', retryAfter: 0, retryable: true, signedOut: false });
    assert.equal(f.count('POST', '/auth/refresh'), 3);
    assert.deepEqual(await c.getSession(), session);
  });

  test('429 at login rejects RateLimitedError (a Retry-After date read on the client clock) and stores nothing', async () => {
    let clockNow;
    const { c, clock } = fakeClient({
      login: () => errorResponse(429, 'too_many_requests', { 'Retry-After': new Date(clockNow + 120_000).toUTCString() }),
    });
    clockNow = clock.now;
    await assert.rejects(c.login(alice), { name: 'RateLimitedError', code: 'too_many_requests', status: 429, retryAfter: 120 });
    assert.equal(await c.getSession(), null);
  });

  test('429 on a guarded request is returned as it is, not retried past a long Retry-After, and never signs out', async () => {
    const answers = [tooMany(30), tooMany(0)];
    const { c, f, signedOut } = fakeClient({ me: () => answers.shift() });
    const session = await c.login(alice);

    const res = await c.request('/api/me');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('Retry-After'), '30');
    assert.equal((await res.json()).error, 'too_many_requests');
    assert.equal(f.count('GET', '/api/me'), 1, 'not retried: the server asked for 30 s');

    assert.equal((await c.request('/api/me')).status, 200, 'Retry-After: 0 is retried');
    assert.equal(f.count('GET', '/api/me'), 3);
    assert.equal(f.count('POST', '/auth/refresh'), 0);
    assert.deepEqual(await c.getSession(), session);
    assert.deepEqual(signedOut, []);
  });
});

describe('403 csrf_failed (fake server)', () => {
  test('cookie mode: 403 csrf_failed at refresh or on a request keeps the session', async () => {
    let refused = true;
    const f = recordingFetch(
      fakeFetch({
        'POST /web/auth/login': () => jsonResponse(200, { csrf_token: 'csrf-1', expires_in: 60, refresh_expires_in: 3600 }),
        'POST /web/auth/refresh': () =>
          refused ? errorResponse(403, 'csrf_failed') : jsonResponse(200, { csrf_token: 'csrf-1', expires_in: 60, refresh_expires_in: 3600 }),
        'POST /api/notes': () => errorResponse(403, 'csrf_failed'),
      }),
    );
    const c = createClient({ baseUrl: FAKE, paths: exampleRoutes.cookie, mode: 'cookie', fetch: f, retry: { baseDelay: 5, maxDelay: 10 } });
    const signedOut = [];
    c.on('signedOut', (e) => signedOut.push(e.reason));
    const session = await c.login(alice);

    await assert.rejects(c.refresh(), { code: 'csrf_failed', status: 403, signedOut: false, retryable: false });
    assert.equal(f.count('POST', '/web/auth/refresh'), 1, 'not retried: retrying cannot help');
    const res = await c.request('/api/notes', { method: 'POST', body: '{}' });
    assert.equal(res.status, 403);
    assert.deepEqual(await c.getSession(), session);
    assert.deepEqual(signedOut, []);

    refused = false;
    assert.equal((await c.refresh()).csrfToken, 'csrf-1');
  });
});

describe('limits of the example server', () => {
  let server;
  before(async () => {
    server = await startExample();
  });
  after(async () => {
    await server?.stop();
  });

  test('login: after 5 failed attempts the account is locked out: RateLimitedError with retryAfter, even for the right password', async () => {
    const c = createClient({ baseUrl: server.url, paths: exampleRoutes.bearer });
    const wrong = { username: 'bob', password: 'not-the-password' };
    for (let i = 1; i <= 5; i++) {
      await assert.rejects(c.login(wrong), { code: 'invalid_credentials' }, `attempt ${i}`);
    }
    for (const credentials of [wrong, { username: 'bob', password: 'builder' }]) {
      await assert.rejects(c.login(credentials), (err) => {
        assert.ok(err instanceof RateLimitedError, String(err));
        assert.equal(err.code, 'too_many_requests');
        assert.equal(err.status, 429);
        assert.ok(err.retryAfter >= 1 && err.retryAfter <= 60, `retryAfter ${err.retryAfter}`);
        return true;
      });
    }
    assert.equal(await c.getSession(), null);
    // Other accounts are not locked.
    assert.equal((await c.login(alice)).mode, 'bearer');
  });

  test('refresh: past the per-session limit a 429 keeps the tokens; after Retry-After the refresh succeeds', async () => {
    const c = createClient({ baseUrl: server.url, paths: exampleRoutes.bearer, retry: { attempts: 2, baseDelay: 10, maxDelay: 100 } });
    const signedOut = [];
    c.on('signedOut', (e) => signedOut.push(e.reason));
    await c.login(alice);

    let limited;
    for (let i = 0; i < 150 && !limited; i++) {
      const current = await c.getSession();
      await c.refresh().catch((err) => {
        limited = { err, current, after: i };
      });
    }
    assert.ok(limited, 'the per-session refresh limit (60 per minute) was reached');
    const { err, current } = limited;
    assert.ok(err instanceof RateLimitedError, String(err));
    assert.equal(err.status, 429);
    assert.equal(err.signedOut, false);
    assert.ok(err.retryAfter >= 1, `retryAfter ${err.retryAfter}`);
    assert.ok(limited.after >= 59, `limited after ${limited.after} refreshes`);
    assert.deepEqual(await c.getSession(), current, 'tokens kept');
    assert.deepEqual(signedOut, []);

    let next;
    for (let i = 0; i < 10 && !next; i++) {
      await sleep(err.retryAfter * 1000 + 100);
      next = await c.refresh().catch((e) => {
        assert.ok(e instanceof RateLimitedError, String(e));
      });
    }
    assert.ok(next, 'a refresh succeeds once Retry-After has passed');
    assert.notEqual(next.refreshToken, current.refreshToken);
    assert.equal((await c.request('/api/me')).status, 200);
  });

  test('cookie mode: requests from a foreign origin get 403 csrf_failed, and the session is kept', async () => {
    let foreign = false;
    const jar = cookieJarFetch();
    const f = (input, init = {}) => {
      if (!foreign) return jar(input, init);
      const headers = new Headers(init.headers);
      headers.set('Origin', 'https://evil.example');
      headers.set('Sec-Fetch-Site', 'cross-site');
      return jar(input, { ...init, headers });
    };
    const c = createClient({ baseUrl: server.url, paths: exampleRoutes.cookie, mode: 'cookie', fetch: f, retry: { baseDelay: 5, maxDelay: 10 } });
    const signedOut = [];
    c.on('signedOut', (e) => signedOut.push(e.reason));
    const session = await c.login(alice);

    foreign = true;
    const res = await c.request('/api/password', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ current_password: 'wonderland', new_password: 'whatever-123' }),
    });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error, 'csrf_failed');
    await assert.rejects(c.refresh(), { code: 'csrf_failed', status: 403, signedOut: false });
    assert.deepEqual(await c.getSession(), session);
    assert.deepEqual(signedOut, []);

    foreign = false;
    assert.equal((await c.request('/api/me')).status, 200);
    await c.refresh();
  });
});
