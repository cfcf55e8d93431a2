// The client in cookie mode against the example's /web/auth routes. Node's
// fetch keeps no cookies, so a small jar stands in for the browser's (the
// browser test runs the same mode in Chromium).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createClient, memoryStorage } from '../dist/index.js';
import { cookieJarFetch, faultyFetch, networkFailure, recordingFetch, sleep } from './helpers/fetch.mjs';
import { exampleRoutes, startExample } from './helpers/server.mjs';

const alice = { username: 'alice', password: 'wonderland' };
let server;

before(async () => {
  server = await startExample({ env: { ACCESS_TTL: '2s' } });
});
after(async () => {
  await server?.stop();
});

/** A cookie-mode client with its own cookie jar; f records what it sends. */
function browser(options = {}) {
  const jar = cookieJarFetch(options.inner);
  const f = recordingFetch(jar);
  const c = createClient({ baseUrl: server.url, paths: exampleRoutes.cookie, mode: 'cookie', fetch: f, retry: { baseDelay: 20, maxDelay: 100 }, ...options.client });
  return { c, f, jar };
}

describe('cookie mode', () => {
  test('login keeps no token in JS; requests ride on the cookies with the CSRF header on unsafe methods', async () => {
    const storage = memoryStorage();
    const { c, f, jar } = browser({ client: { storage } });
    const session = await c.login(alice);
    assert.equal(session.mode, 'cookie');
    assert.equal(session.accessToken, undefined);
    assert.equal(session.refreshToken, undefined);
    assert.match(session.csrfToken, /^[\w-]{16,}$/);
    assert.doesNotMatch(storage.getItem('jwtguard.session'), /eyJ/, 'no token in storage');
    assert.ok(jar.cookie('jwtguard_access') && jar.cookie('jwtguard_refresh'), 'tokens are in cookies');
    assert.equal(jar.cookie('jwtguard_csrf'), session.csrfToken);

    const me = await c.request('/api/me');
    assert.equal(me.status, 200);
    assert.equal((await me.json()).subject, 'u-1001');
    const get = f.calls.find((x) => x.path === '/api/me');
    assert.equal(get.headers.get('Authorization'), null);
    assert.equal(get.headers.get('X-CSRF-Token'), null, 'no CSRF header on a safe method');

    // An unsafe request passes the CSRF check (and then fails on the wrong password).
    const res = await c.request('/api/password', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ current_password: 'wrong', new_password: 'whatever-123' }),
    });
    assert.equal((await res.json()).error, 'invalid_credentials');
    assert.equal(f.calls.at(-1).headers.get('X-CSRF-Token'), session.csrfToken);
  });

  test('the server refuses an unsafe cookie request without the CSRF header', async () => {
    const { c, jar } = browser();
    await c.login(alice);
    const res = await jar(`${server.url}/api/password`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ current_password: 'wonderland', new_password: 'whatever-123' }),
    });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error, 'csrf_failed');
  });

  test('concurrent requests finding the access token expired send exactly one refresh', async () => {
    const { c, f, jar } = browser({ client: { refreshMargin: 0 } });
    await c.login(alice);
    const oldAccess = jar.cookie('jwtguard_access');
    const s = await c.getSession();
    await sleep(Math.max(0, s.accessExpiresAt - Date.now()) + 50);

    const answers = await Promise.all(Array.from({ length: 10 }, () => c.request('/api/me')));
    assert.deepEqual(answers.map((r) => r.status), Array(10).fill(200));
    assert.equal(f.count('POST', '/web/auth/refresh'), 1);
    const refresh = f.calls.find((x) => x.path === '/web/auth/refresh');
    assert.ok(refresh.headers.get('X-CSRF-Token'), 'refresh carries the CSRF header');
    assert.notEqual(jar.cookie('jwtguard_access'), oldAccess, 'the refresh set new cookies');
    const replay = await fetch(`${server.url}/api/me`, { headers: { Cookie: `jwtguard_access=${oldAccess}` } });
    assert.equal((await replay.json()).error, 'token_revoked', 'the old access cookie is refused');
  });

  test('logout clears the cookies and the session; a failed one is queued and retried', async () => {
    let down = true;
    const { c, jar } = browser({
      inner: faultyFetch(({ path }) => {
        if (down && path === '/web/auth/logout') throw networkFailure();
      }),
      client: { logoutRetry: { baseDelay: 60_000, maxDelay: 60_000 } },
    });
    const reasons = [];
    c.on('signedOut', (e) => reasons.push(e.reason));
    await c.login(alice);
    const access = jar.cookie('jwtguard_access');

    assert.deepEqual(await c.logout(), { revoked: false, queued: true });
    assert.deepEqual(reasons, ['logout']);
    assert.equal(await c.isSignedIn(), false);
    await assert.rejects(c.request('/api/me'), { code: 'not_signed_in' });

    down = false;
    assert.equal(await c.flushPendingLogouts(), 0);
    assert.equal(jar.cookie('jwtguard_access'), undefined, 'the server cleared the cookies');
    const replay = await fetch(`${server.url}/api/me`, { headers: { Cookie: `jwtguard_access=${access}` } });
    assert.equal((await replay.json()).error, 'token_revoked');
    c.close();
  });

  test('logging in again drops a queued cookie logout, which would end the new session', async () => {
    let down = true;
    const { c } = browser({
      inner: faultyFetch(({ path }) => {
        if (down && path === '/web/auth/logout') throw networkFailure();
      }),
      client: { logoutRetry: { baseDelay: 60_000, maxDelay: 60_000 } },
    });
    await c.login(alice);
    assert.equal((await c.logout()).queued, true);
    await c.login(alice);
    assert.equal(await c.pendingLogouts(), 0);
    down = false;
    assert.equal(await c.flushPendingLogouts(), 0);
    assert.equal((await c.request('/api/me')).status, 200, 'the new session is untouched');
    c.close();
  });
});
