// Scenarios that need the server itself to find tokens expired or rotated
// long ago: the example runs with ACCESS_TTL=1s, and since the server
// tolerates 10 s of clock skew (Leeway), `before` sets every scenario up and
// then waits once, past the access tokens' expiry plus the leeway and past
// the refresh grace window (5 s).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { createClient } from '../dist/index.js';
import { cookieJarFetch, recordingFetch, sleep } from './helpers/fetch.mjs';
import { exampleRoutes, startExample } from './helpers/server.mjs';

const alice = { username: 'alice', password: 'wonderland' };
const LEEWAY_MS = 10_000;
let server;
let concurrent, concurrentFetch; // requests that all get 401 token_expired at once
let mobile, mobileTokens; // logs out holding an expired access token
let victim, victimEvents, thiefTokens; // its refresh token was used by someone else
let browser, browserFetch, phone; // cookie mode: logs out everywhere with an expired access cookie

async function raw(method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body) headers['Content-Type'] = 'application/json';
  const res = await fetch(server.url + path, { method, headers, body: body && JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

before(async () => {
  server = await startExample({ env: { ACCESS_TTL: '1s' } });
  const started = Date.now();

  // A frozen clock: this client never sees its token as expired by itself,
  // so its requests leave with the expired token and the server refuses them.
  concurrentFetch = recordingFetch();
  concurrent = createClient({ baseUrl: server.url, paths: exampleRoutes.bearer, fetch: concurrentFetch, now: () => started });
  await concurrent.login(alice);

  mobile = createClient({ baseUrl: server.url, paths: exampleRoutes.bearer });
  mobileTokens = await mobile.login(alice);

  victim = createClient({ baseUrl: server.url, paths: exampleRoutes.bearer });
  victimEvents = [];
  victim.on('signedOut', (e) => victimEvents.push(e.reason));
  const stolen = await victim.login(alice);
  // The thief refreshes twice. One rotation behind, the victim's refresh
  // token would look like a client whose refresh answer was lost, which the
  // server still answers (lost-response.test.mjs); two behind is reuse.
  const rotated = await raw('POST', '/auth/refresh', { body: { refresh_token: stolen.refreshToken } });
  assert.equal(rotated.status, 200, 'the thief refreshes with the stolen refresh token');
  const again = await raw('POST', '/auth/refresh', { body: { refresh_token: rotated.body.refresh_token } });
  assert.equal(again.status, 200, 'and again with the new one');
  thiefTokens = again.body;

  browserFetch = recordingFetch(cookieJarFetch());
  browser = createClient({ baseUrl: server.url, paths: exampleRoutes.cookie, mode: 'cookie', fetch: browserFetch });
  await browser.login(alice);
  phone = createClient({ baseUrl: server.url, paths: exampleRoutes.bearer });
  await phone.login(alice);

  await sleep(1_000 + LEEWAY_MS + 1_500 - (Date.now() - started));
});

after(async () => {
  await server?.stop();
});

test('many requests refused with 401 token_expired at once send exactly one refresh', async () => {
  const answers = await Promise.all(Array.from({ length: 8 }, () => concurrent.request('/api/me')));
  assert.deepEqual(answers.map((r) => r.status), Array(8).fill(200));
  assert.equal(concurrentFetch.count('POST', '/auth/refresh'), 1, 'one refresh for eight refused requests');
  assert.equal(concurrentFetch.count('GET', '/api/me'), 16, 'each request: refused once, retried once');
});

test('logout with an expired access token revokes the session on the server', async () => {
  assert.equal((await raw('GET', '/api/me', { token: mobileTokens.accessToken })).body.error, 'token_expired');
  assert.deepEqual(await mobile.logout(), { revoked: true, queued: false });
  assert.equal(await mobile.isSignedIn(), false);
  const refresh = await raw('POST', '/auth/refresh', { body: { refresh_token: mobileTokens.refreshToken } });
  assert.equal(refresh.status, 400);
  assert.equal(refresh.body.error, 'invalid_grant', 'the old refresh token is refused as an OAuth token endpoint does');
  assert.equal(refresh.body.reason, 'token_revoked');
});

test('a reused refresh token clears the tokens and emits signedOut with refresh_reused', async () => {
  await assert.rejects(victim.request('/api/me'), (err) => {
    assert.equal(err.code, 'refresh_reused', 'the reason, not invalid_grant');
    assert.equal(err.status, 400);
    assert.equal(err.signedOut, true);
    assert.ok(err.message && err.message !== 'HTTP 400', 'the error_description');
    return true;
  });
  assert.deepEqual(victimEvents, ['refresh_reused']);
  assert.equal(await victim.getSession(), null, 'tokens cleared');
  // Reuse detection revoked the whole session: the thief's refresh token is
  // dead too (its access token has simply expired by now).
  assert.equal((await raw('POST', '/auth/refresh', { body: { refresh_token: thiefTokens.refresh_token } })).body.reason, 'token_revoked');
});

test("cookie mode: logout('global') with an expired access cookie renews it first, then ends every session", async () => {
  // Scope global needs a token that passes every check, and the refresh
  // cookie is not sent to the logout route.
  assert.deepEqual(await browser.logout('global'), { revoked: true, queued: false });
  assert.equal(browserFetch.count('POST', '/web/auth/refresh'), 1);
  await assert.rejects(phone.request('/api/me'), { code: 'token_revoked', signedOut: true });
});
