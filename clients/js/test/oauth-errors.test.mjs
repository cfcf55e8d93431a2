// The refresh route answers as an OAuth 2.0 token endpoint (RFC 6749 §5.2):
// a dead refresh token is 400 {"error":"invalid_grant","error_description",
// "reason"}, a malformed request 400 invalid_request or
// unsupported_grant_type. The client decides on the specific reason: every
// invalid_grant signs out (with the reason), the other 400s, 403, 429 and
// 503 keep the tokens. Unit tests use a fake server; the example server's
// answers are then checked for real.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { JwtGuardError, createClient } from '../dist/index.js';
import { errorResponse, fakeFetch, grantErrorResponse, jsonResponse, recordingFetch, tokenIssuer } from './helpers/fetch.mjs';
import { exampleRoutes, startExample } from './helpers/server.mjs';

const alice = { username: 'alice', password: 'wonderland' };
const FAKE = 'http://api.test';

/** A bearer client of a fake server whose refresh answers `refresh()` (undefined: a new pair). */
function fakeClient(refresh) {
  const issuer = tokenIssuer({ expiresIn: 60 });
  const f = recordingFetch(
    fakeFetch({
      'POST /auth/login': () => issuer.pair(),
      'POST /auth/refresh': () => refresh() ?? issuer.pair(),
      'GET /api/me': () => jsonResponse(200, { subject: 'u-1001' }),
    }),
  );
  const c = createClient({ baseUrl: FAKE, paths: exampleRoutes.bearer, fetch: f, retry: { attempts: 2, baseDelay: 5, maxDelay: 10 } });
  const signedOut = [];
  c.on('signedOut', (e) => signedOut.push(e.reason));
  return { c, f, signedOut };
}

describe('refresh errors (fake server)', () => {
  for (const reason of ['refresh_reused', 'token_revoked', 'session_expired', 'token_expired', 'key_unknown', 'token_invalid']) {
    test(`400 invalid_grant with reason ${reason} signs out with that reason`, async () => {
      const { c, f, signedOut } = fakeClient(() => grantErrorResponse(reason));
      await c.login(alice);
      await assert.rejects(c.refresh(), (err) => {
        assert.ok(err instanceof JwtGuardError);
        assert.equal(err.code, reason, 'the reason, not invalid_grant');
        assert.equal(err.status, 400);
        assert.equal(err.message, `simulated ${reason}`, 'the error_description');
        assert.equal(err.signedOut, true);
        assert.equal(err.retryable, false);
        return true;
      });
      assert.equal(f.count('POST', '/auth/refresh'), 1, 'not retried');
      assert.equal(await c.isSignedIn(), false, 'tokens cleared');
      assert.deepEqual(signedOut, [reason]);
    });
  }

  test('400 invalid_grant without a reason (a stock OAuth server) signs out with invalid_grant', async () => {
    const { c, signedOut } = fakeClient(() => jsonResponse(400, { error: 'invalid_grant' }));
    await c.login(alice);
    await assert.rejects(c.refresh(), { code: 'invalid_grant', status: 400, signedOut: true, message: 'HTTP 400' });
    assert.deepEqual(signedOut, ['invalid_grant']);
  });

  test('a 401 of the refresh route still signs out', async () => {
    const { c, signedOut } = fakeClient(() => errorResponse(401, 'token_revoked'));
    await c.login(alice);
    await assert.rejects(c.refresh(), { code: 'token_revoked', status: 401, signedOut: true });
    assert.deepEqual(signedOut, ['token_revoked']);
  });

  for (const oauth of ['invalid_request', 'unsupported_grant_type']) {
    test(`400 ${oauth} rejects with the reason and keeps the tokens`, async () => {
      const { c, f, signedOut } = fakeClient(() => grantErrorResponse('bad_request', oauth));
      const session = await c.login(alice);
      await assert.rejects(c.refresh(), { code: 'bad_request', status: 400, signedOut: false, retryable: false });
      assert.equal(f.count('POST', '/auth/refresh'), 1);
      assert.deepEqual(await c.getSession(), session, 'tokens kept');
      assert.deepEqual(signedOut, []);
    });
  }

  test('429 and 503 keep the tokens; the next refresh succeeds', async () => {
    const answers = [errorResponse(503, 'store_unavailable'), errorResponse(503, 'store_unavailable'), errorResponse(429, 'too_many_requests', { 'Retry-After': '60' })];
    const { c, signedOut } = fakeClient(() => answers.shift());
    const session = await c.login(alice);
    await assert.rejects(c.refresh(), { code: 'store_unavailable', status: 503, retryable: true, signedOut: false });
    assert.deepEqual(await c.getSession(), session);
    await assert.rejects(c.refresh(), { name: 'RateLimitedError', code: 'too_many_requests', signedOut: false });
    assert.deepEqual(await c.getSession(), session);
    assert.equal((await c.refresh()).refreshToken, 'refresh-2');
    assert.deepEqual(signedOut, []);
  });
});

describe('refresh errors (example server)', () => {
  let server;
  before(async () => {
    server = await startExample();
  });
  after(async () => {
    await server?.stop();
  });

  /** POSTs body to the bearer refresh route. */
  async function refresh(body, contentType = 'application/json') {
    const res = await fetch(`${server.url}/auth/refresh`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
    return { status: res.status, challenge: res.headers.get('WWW-Authenticate'), body: await res.json() };
  }

  test('a garbage refresh token: 400 invalid_grant, reason token_malformed, no WWW-Authenticate', async () => {
    const res = await refresh(JSON.stringify({ refresh_token: 'x.y.z' }));
    assert.equal(res.status, 400);
    assert.equal(res.challenge, null);
    assert.deepEqual(Object.keys(res.body).sort(), ['error', 'error_description', 'reason']);
    assert.equal(res.body.error, 'invalid_grant');
    assert.equal(res.body.reason, 'token_malformed');
    assert.ok(res.body.error_description);
  });

  test('no refresh token: 400 invalid_request; another grant_type: 400 unsupported_grant_type', async () => {
    const missing = await refresh('{}');
    assert.deepEqual([missing.status, missing.body.error, missing.body.reason], [400, 'invalid_request', 'bad_request']);
    const grant = await refresh('grant_type=password&username=alice&password=wonderland', 'application/x-www-form-urlencoded');
    assert.deepEqual([grant.status, grant.body.error, grant.body.reason], [400, 'unsupported_grant_type', 'bad_request']);
  });

  test('a guarded route keeps its 401 codes, with error_description and no reason', async () => {
    const res = await fetch(`${server.url}/api/me`, { headers: { Authorization: 'Bearer x.y.z' } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('WWW-Authenticate'), /^Bearer error="invalid_token"/);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
    assert.equal(body.error, 'token_malformed');
  });

  test('the client signs out on a logged-out refresh token, with the reason', async () => {
    const c = createClient({ baseUrl: server.url, paths: exampleRoutes.bearer });
    const signedOut = [];
    c.on('signedOut', (e) => signedOut.push(e.reason));
    const s = await c.login(alice);
    // Another device ends the session with this refresh token.
    const res = await fetch(`${server.url}/auth/logout`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: s.refreshToken }),
    });
    assert.equal(res.status, 204);
    await assert.rejects(c.refresh(), { code: 'token_revoked', status: 400, signedOut: true });
    assert.deepEqual(signedOut, ['token_revoked']);
    assert.equal(await c.isSignedIn(), false);
  });
});
