// Refresh answers lost on the way back (a tunnel, an app sent to the
// background): the server has rotated, the client never saw the new pair.
// A proxy (helpers/proxy.mjs) loses the answers. The server still answers
// the refresh token the rotation replaced: within its grace window (5 s) as
// "converged", later a few times per session as "retry" (RefreshRetries, 3).
// `before` loses a refresh answer for three clients, then waits once past the
// grace window: the apps come back from the background.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createClient } from '../dist/index.js';
import { cookieJarFetch, recordingFetch, sleep } from './helpers/fetch.mjs';
import { claims, startProxy } from './helpers/proxy.mjs';
import { exampleRoutes, startExample } from './helpers/server.mjs';

const alice = { username: 'alice', password: 'wonderland' };
const GRACE_MS = 5_000; // the server's default RefreshGrace
let server;
const proxies = [];
let resumed, behind, flaky; // lost a refresh answer in `before`

/** A bearer client that talks to the server through a new proxy; options override the defaults. */
async function viaProxy(options = {}) {
  const proxy = await startProxy(server.url);
  proxies.push(proxy);
  const f = recordingFetch();
  const c = createClient({ baseUrl: proxy.url, paths: exampleRoutes.bearer, fetch: f, retry: { baseDelay: 20, maxDelay: 100 }, ...options });
  const seen = [];
  for (const type of ['signedIn', 'refreshed', 'signedOut']) c.on(type, (e) => seen.push(type === 'signedOut' ? `signedOut:${e.reason}` : type));
  return { c, proxy, f, seen };
}

/** Plans the next refresh to be lost and everything after it to go nowhere (the app went to the background). */
function loseRefreshThenGoOffline(proxy) {
  let lost = false;
  proxy.plan = ({ path }) => {
    if (lost) return 'offline';
    if (path.endsWith('/refresh')) lost = true;
    return lost ? 'lose' : 'pass';
  };
}

/** The actions and answers on the wire since log index from, as "METHOD path action status". */
function wire(proxy, from = 0) {
  return proxy.log.slice(from).map((e) => `${e.method} ${e.path} ${e.action} ${e.status ?? '-'}`);
}

/** The refresh events the server logged for the session of accessToken, by reason ('' for a rotation). */
function refreshReasons(accessToken) {
  const sid = claims(accessToken).sid;
  return server
    .logs()
    .split('\n')
    .filter((line) => line.includes('kind=refresh') && line.includes(`session=${sid}`))
    .map((line) => /reason=(\S*)/.exec(line)?.[1].replace(/^""$/, '') ?? '');
}

/** Logs a client in, loses the answer of its next refresh, and checks that the tokens survived. */
async function loseOne(client) {
  const session = await client.c.login(alice);
  loseRefreshThenGoOffline(client.proxy);
  await assert.rejects(client.c.refresh(), { code: 'network_error', retryable: true, signedOut: false });
  assert.deepEqual(await client.c.getSession(), session, 'a lost answer throws no token away');
  assert.equal(client.proxy.reached('/auth/refresh').length, 1, 'the lost refresh reached the server; the retries did not');
  return { ...client, session };
}

before(async () => {
  server = await startExample({ env: { ACCESS_TTL: '2s' } });
  const started = Date.now();
  let skew = 0; // the resumed app's clock jumps when it comes back
  resumed = await loseOne(await viaProxy({ now: () => Date.now() + skew }));
  behind = await loseOne(await viaProxy({ now: () => started })); // never sees its token as expired
  flaky = await loseOne(await viaProxy());
  await sleep(started + GRACE_MS + 1_000 - Date.now());
  skew = 30_000;
  for (const { proxy } of [resumed, behind, flaky]) proxy.plan = () => 'pass';
});

after(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await server?.stop();
});

describe('after the grace window', () => {
  test('response lost, app resumes after 30 s: still signed in, one refresh on the wire', async () => {
    const { c, proxy, session, seen } = resumed;
    const from = proxy.log.length;
    const res = await c.request('/api/me');
    assert.equal(res.status, 200);
    assert.deepEqual(
      wire(proxy, from),
      ['POST /auth/refresh pass 200', 'GET /api/me pass 200'],
      'the expired access token is refreshed first, with the refresh token the lost answer replaced',
    );
    const now = await c.getSession();
    assert.notEqual(now.refreshToken, session.refreshToken);
    assert.equal(claims(now.accessToken).gen, 2, 'the pair of the generation the lost answer carried');
    assert.deepEqual(refreshReasons(session.accessToken), ['', 'retry'], 'rotated (answer lost), then answered as a retry');
    assert.deepEqual(seen, ['signedIn', 'refreshed']);

    // The session goes on as usual.
    assert.equal(claims((await c.refresh()).accessToken).gen, 3);
    assert.equal((await c.request('/api/me')).status, 200);
  });

  test('401 token_revoked for the access token the lost answer replaced: one refresh, then the request again', async () => {
    const { c, proxy, session, seen } = behind;
    const from = proxy.log.length;
    const res = await c.request('/api/me');
    assert.equal(res.status, 200);
    assert.deepEqual(wire(proxy, from), ['GET /api/me pass 401', 'POST /auth/refresh pass 200', 'GET /api/me pass 200']);
    assert.equal(proxy.log[from].status, 401);
    assert.notEqual((await c.getSession()).accessToken, session.accessToken);
    assert.deepEqual(seen, ['signedIn', 'refreshed'], 'no sign-out');
  });

  test('a retry whose answer is lost again is not repeated at once; the next call succeeds', async () => {
    const { c, proxy, session, seen } = flaky;
    proxy.plan = ({ path }) => (path === '/auth/refresh' ? 'lose' : 'pass');
    let from = proxy.log.length;
    await assert.rejects(c.refresh(), { code: 'network_error', retryable: true, signedOut: false });
    assert.deepEqual(
      wire(proxy, from),
      ['POST /auth/refresh lose 200'],
      "one attempt: past the grace window each answered retry spends one of the session's RefreshRetries",
    );
    assert.deepEqual(await c.getSession(), session, 'tokens kept');

    proxy.plan = () => 'pass';
    from = proxy.log.length;
    const next = await c.refresh();
    assert.deepEqual(wire(proxy, from), ['POST /auth/refresh pass 200']);
    assert.equal(claims(next.accessToken).gen, 2);
    assert.deepEqual(refreshReasons(session.accessToken), ['', 'retry', 'retry']);
    assert.equal((await c.request('/api/me')).status, 200);
    assert.deepEqual(seen, ['signedIn', 'refreshed']);
  });
});

describe('within the grace window', () => {
  test('an answer lost on the way back is retried at once with the same refresh token and converges', async () => {
    const { c, proxy, seen } = await viaProxy();
    const session = await c.login(alice);
    let refreshes = 0;
    proxy.plan = ({ path }) => (path === '/auth/refresh' && refreshes++ === 0 ? 'lose' : 'pass');
    const next = await c.refresh();
    assert.deepEqual(wire(proxy).slice(1), ['POST /auth/refresh lose 200', 'POST /auth/refresh pass 200']);
    assert.equal(claims(next.accessToken).gen, 2);
    assert.deepEqual(refreshReasons(session.accessToken), ['', 'converged']);
    assert.deepEqual(seen, ['signedIn', 'refreshed']);
  });

  test('a token answer cut short counts as lost, not as a bad answer', async () => {
    const { c, proxy } = await viaProxy();
    const session = await c.login(alice);
    let refreshes = 0;
    proxy.plan = ({ path }) => (path === '/auth/refresh' && refreshes++ === 0 ? 'cut' : 'pass');
    const next = await c.refresh();
    assert.deepEqual(wire(proxy).slice(1), ['POST /auth/refresh cut 200', 'POST /auth/refresh pass 200']);
    assert.equal(claims(next.accessToken).gen, 2);
    assert.deepEqual(refreshReasons(session.accessToken), ['', 'converged']);
  });

  test('a refresh without an answer is abandoned after refreshTimeout and sent again', async () => {
    const { c, proxy } = await viaProxy({ refreshTimeout: 300 });
    await c.login(alice);
    let refreshes = 0;
    proxy.plan = ({ path }) => (path === '/auth/refresh' && refreshes++ === 0 ? 'hang' : 'pass');
    const t0 = Date.now();
    const next = await c.refresh();
    assert.ok(Date.now() - t0 < 2_000, 'the timeout acted');
    assert.deepEqual(wire(proxy).slice(1), ['POST /auth/refresh hang 200', 'POST /auth/refresh pass 200']);
    assert.equal(claims(next.accessToken).gen, 2);
  });

  test('cookie mode: logout after a lost refresh answer renews the cookies once and revokes the session', async () => {
    const proxy = await startProxy(server.url);
    proxies.push(proxy);
    const jar = cookieJarFetch();
    const c = createClient({
      baseUrl: proxy.url,
      paths: exampleRoutes.cookie,
      mode: 'cookie',
      fetch: jar,
      retry: { attempts: 2, baseDelay: 20, maxDelay: 20 },
    });
    const { csrfToken } = await c.login(alice);
    loseRefreshThenGoOffline(proxy);
    await assert.rejects(c.refresh(), { code: 'network_error', retryable: true });
    proxy.plan = () => 'pass';
    const staleAccess = jar.cookie('jwtguard_access');
    const staleRefresh = jar.cookie('jwtguard_refresh');

    const from = proxy.log.length;
    assert.deepEqual(await c.logout(), { revoked: true, queued: false });
    assert.deepEqual(wire(proxy, from), [
      'POST /web/auth/logout pass 401', // token_revoked: the access cookie is a rotation behind
      'POST /web/auth/refresh pass 200', // the refresh cookie still speaks for the session
      'POST /web/auth/logout pass 204',
    ]);
    assert.equal(jar.cookie('jwtguard_access'), undefined, 'the server cleared the cookies');
    const refresh = await fetch(`${server.url}/web/auth/refresh`, {
      method: 'POST',
      headers: { Cookie: `jwtguard_refresh=${staleRefresh}`, 'X-CSRF-Token': csrfToken },
    });
    assert.equal(refresh.status, 400, 'the session is gone on the server');
    assert.deepEqual([(await refresh.json()).error, refresh.headers.get('WWW-Authenticate')], ['invalid_grant', null]);
    const me = await fetch(`${server.url}/api/me`, { headers: { Cookie: `jwtguard_access=${staleAccess}` } });
    assert.equal(me.status, 401);
  });
});
