// Step-up authentication (RFC 9470). A guarded route answers 401
// insufficient_user_authentication with a WWW-Authenticate challenge (max_age,
// acr_values) when the user's authentication is too old or too weak; the
// client keeps its tokens, rejects with StepUpRequiredError and emits
// stepUpRequired, and stepUp() trades fresh credentials for a raised access
// token, keeping the refresh token. The example has no clock control (its
// /api/account/export wants a login within 5 minutes), so the challenge is
// tested against a fake server, and stepUp itself against both.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { JwtGuardError, RateLimitedError, StepUpRequiredError, createClient, memoryStorage } from '../dist/index.js';
import { cookieJarFetch, errorResponse, fakeFetch, jsonResponse, recordingFetch, tokenIssuer } from './helpers/fetch.mjs';
import { claims } from './helpers/proxy.mjs';
import { exampleRoutes, startExample } from './helpers/server.mjs';

const alice = { username: 'alice', password: 'wonderland' };
const FAKE = 'http://api.test';
const DESCRIPTION = 'A more recent or stronger authentication is required.';

/** A challenge as the server writes it, with the given extra auth-params. */
function challenge(params = '') {
  return `Bearer error="insufficient_user_authentication", error_description="${DESCRIPTION}"${params}`;
}

/** The server's 401 step-up answer; wwwAuthenticate null leaves the header out. */
function stepUpAnswer(wwwAuthenticate) {
  return new Response(JSON.stringify({ error: 'insufficient_user_authentication', error_description: DESCRIPTION }), {
    status: 401,
    headers: { 'Content-Type': 'application/json', ...(wwwAuthenticate === null ? {} : { 'WWW-Authenticate': wwwAuthenticate }) },
  });
}

/**
 * A client of a fake bearer server: login and refresh issue numbered pairs,
 * GET /api/account/export answers exportAnswer(request), POST
 * /auth/step-up answers stepUpAnswer(request). f records the calls.
 */
function fakeClient({ exportAnswer, stepUp, client: options = {}, issuer = tokenIssuer() } = {}) {
  const f = recordingFetch(
    fakeFetch({
      'POST /auth/login': () => issuer.pair(),
      'POST /auth/refresh': () => issuer.pair(),
      'POST /auth/logout': () => new Response(null, { status: 204 }),
      'GET /api/account/export': (req) => exportAnswer?.(req) ?? jsonResponse(200, { subject: 'u-1001' }),
      'POST /auth/step-up': (req) => stepUp?.(req) ?? errorResponse(404, 'not_found'),
    }),
  );
  const c = createClient({ baseUrl: FAKE, paths: exampleRoutes.bearer, fetch: f, retry: { baseDelay: 10, maxDelay: 50 }, ...options });
  const seen = [];
  for (const type of ['signedIn', 'refreshed', 'signedOut', 'stepUpRequired', 'steppedUp']) c.on(type, (e) => seen.push({ type, ...e }));
  return { c, f, seen };
}

describe('step-up challenge (fake server)', () => {
  test('401 insufficient_user_authentication rejects with StepUpRequiredError carrying maxAge and acrValues; tokens kept, no refresh', async () => {
    const { c, f, seen } = fakeClient({ exportAnswer: () => stepUpAnswer(challenge(', max_age=300, acr_values="mfa phr"')) });
    const session = await c.login(alice);

    await assert.rejects(c.request('/api/account/export'), (err) => {
      assert.ok(err instanceof StepUpRequiredError);
      assert.ok(err instanceof JwtGuardError, 'a JwtGuardError too');
      assert.equal(err.name, 'StepUpRequiredError');
      assert.equal(err.code, 'insufficient_user_authentication');
      assert.equal(err.status, 401);
      assert.equal(err.message, DESCRIPTION);
      assert.equal(err.maxAge, 300);
      assert.deepEqual(err.acrValues, ['mfa', 'phr']);
      assert.equal(err.signedOut, false);
      assert.equal(err.retryable, false);
      return true;
    });
    assert.equal(f.count('POST', '/auth/refresh'), 0, 'a refresh cannot raise the authentication');
    assert.equal(f.count('GET', '/api/account/export'), 1, 'not retried');
    assert.deepEqual(await c.getSession(), session, 'tokens kept');
    assert.deepEqual(
      seen.map((e) => e.type),
      ['signedIn', 'stepUpRequired'],
      'no signedOut',
    );
    assert.deepEqual(seen[1], {
      type: 'stepUpRequired',
      url: `${FAKE}/api/account/export`,
      method: 'GET',
      message: DESCRIPTION,
      maxAge: 300,
      acrValues: ['mfa', 'phr'],
    });
    assert.equal((await c.request('/api/me')).status, 404, 'the session goes on (the fake has no /api/me)');
  });

  const cases = [
    { name: 'max_age only, as jwtguard writes it', header: challenge(', max_age=300'), maxAge: 300, acrValues: undefined },
    { name: 'acr_values only', header: challenge(', acr_values="mfa"'), maxAge: undefined, acrValues: ['mfa'] },
    { name: 'max_age=0 (authenticate right now)', header: challenge(', max_age=0'), maxAge: 0, acrValues: undefined },
    {
      name: 'quoted max_age, extra spaces, parameter names in any case',
      header: 'bearer  ERROR = "insufficient_user_authentication" ,Max_Age="60",  acr_values="urn:example:loa:2   mfa" ',
      maxAge: 60,
      acrValues: ['urn:example:loa:2', 'mfa'],
    },
    {
      name: 'after another challenge, with commas and escaped quotes in the description',
      header: 'Basic realm="x, y", Bearer realm="api", error="insufficient_user_authentication", error_description="a \\"fresh\\", strong login", max_age=120',
      maxAge: 120,
      acrValues: undefined,
    },
    {
      name: 'a DPoP challenge and a Bearer challenge for another error: the step-up one counts',
      header: 'DPoP algs="ES256", Bearer error="invalid_token", max_age=1, Bearer error="insufficient_user_authentication", acr_values="phr"',
      maxAge: undefined,
      acrValues: ['phr'],
    },
    { name: 'an unreadable max_age is left out', header: challenge(', max_age=soon, acr_values=""'), maxAge: undefined, acrValues: undefined },
    { name: 'no WWW-Authenticate (hidden by CORS): still a step-up, without details', header: null, maxAge: undefined, acrValues: undefined },
  ];
  for (const { name, header, maxAge, acrValues } of cases) {
    test(`challenge: ${name}`, async () => {
      const { c, seen } = fakeClient({ exportAnswer: () => stepUpAnswer(header) });
      await c.login(alice);
      const err = await c.request('/api/account/export').catch((e) => e);
      assert.ok(err instanceof StepUpRequiredError, String(err));
      assert.equal(err.maxAge, maxAge);
      assert.deepEqual(err.acrValues, acrValues);
      assert.equal(err.message, DESCRIPTION);
      const event = seen.find((e) => e.type === 'stepUpRequired');
      assert.equal(event.maxAge, maxAge);
      assert.deepEqual(event.acrValues, acrValues);
      assert.equal(await c.isSignedIn(), true);
    });
  }

  test('a 401 without an error code but with the step-up challenge is a step-up too', async () => {
    const { c, f } = fakeClient({
      exportAnswer: () => new Response('', { status: 401, headers: { 'WWW-Authenticate': challenge(', max_age=30') } }),
    });
    await c.login(alice);
    await assert.rejects(c.request('/api/account/export'), { name: 'StepUpRequiredError', maxAge: 30 });
    assert.equal(f.count('POST', '/auth/refresh'), 0);
  });

  test('the challenge of a refreshable 401 is not a step-up: token_expired still refreshes', async () => {
    let first = true;
    const { c, f } = fakeClient({
      exportAnswer: () => {
        if (!first) return undefined;
        first = false;
        return errorResponse(401, 'token_expired', { 'WWW-Authenticate': 'Bearer error="invalid_token", max_age=300' });
      },
    });
    await c.login(alice);
    assert.equal((await c.request('/api/account/export')).status, 200);
    assert.equal(f.count('POST', '/auth/refresh'), 1);
  });
});

describe('stepUp (fake server)', () => {
  test('sends the access token and the credentials, replaces the access token and keeps the refresh token', async () => {
    let received;
    const { c, f, seen } = fakeClient({
      stepUp: (req) => {
        received = req;
        return jsonResponse(200, { access_token: 'raised-1', token_type: 'Bearer', expires_in: 300 });
      },
      client: { now: () => 1_000_000 },
    });
    const login = await c.login(alice);
    const raised = await c.stepUp(alice);

    assert.equal(received.headers.get('Authorization'), 'Bearer access-1');
    assert.equal(received.headers.get('Content-Type'), 'application/json');
    assert.deepEqual(received.body, alice);
    assert.deepEqual(raised, {
      mode: 'bearer',
      accessToken: 'raised-1',
      refreshToken: login.refreshToken,
      accessExpiresAt: 1_000_000 + 300_000,
      refreshExpiresAt: login.refreshExpiresAt,
    });
    assert.deepEqual(await c.getSession(), raised);
    assert.deepEqual(seen.at(-1), { type: 'steppedUp', ...raised });
    assert.equal(f.count('POST', '/auth/refresh'), 0);

    await c.request('/api/account/export');
    assert.equal(f.calls.at(-1).headers.get('Authorization'), 'Bearer raised-1', 'requests carry the raised token');
    const refreshed = await c.refresh();
    assert.equal(refreshed.refreshToken, 'refresh-2', 'the kept refresh token was used and rotated');
  });

  test('the step-up path is configuration: without it stepUp rejects with a TypeError; an empty one is refused', async () => {
    const { bearer } = exampleRoutes;
    const c = createClient({ baseUrl: FAKE, paths: { login: bearer.login, refresh: bearer.refresh, logout: bearer.logout }, fetch: fakeFetch({}) });
    await assert.rejects(c.stepUp(alice), { name: 'TypeError', message: /paths\.stepUp is not configured/ });
    assert.throws(() => createClient({ baseUrl: FAKE, paths: { ...bearer, stepUp: '' } }), { name: 'TypeError', message: /paths\.stepUp/ });

    const paths = { ...bearer, stepUp: '/v2/session/elevate' };
    const f = recordingFetch(fakeFetch({ 'POST /auth/login': () => tokenIssuer().pair() }));
    const custom = createClient({ baseUrl: FAKE, paths, fetch: f });
    await custom.login(alice);
    await assert.rejects(custom.stepUp(alice), { code: 'not_found' });
    assert.equal(f.calls.at(-1).path, '/v2/session/elevate');
  });

  test('without a session stepUp rejects not_signed_in and sends nothing', async () => {
    const { c, f } = fakeClient();
    await assert.rejects(c.stepUp(alice), { code: 'not_signed_in' });
    assert.equal(f.calls.length, 0);
  });

  test('a refused step-up keeps the session: invalid_credentials, 429, a bad answer', async () => {
    const answers = [
      errorResponse(401, 'invalid_credentials'),
      errorResponse(429, 'too_many_requests', { 'Retry-After': '42' }),
      jsonResponse(200, { token_type: 'Bearer', expires_in: 300 }),
    ];
    const { c, f, seen } = fakeClient({ stepUp: () => answers.shift() });
    const session = await c.login(alice);

    await assert.rejects(c.stepUp({ username: 'alice', password: 'nope' }), (err) => {
      assert.ok(err instanceof JwtGuardError);
      assert.equal(err.code, 'invalid_credentials');
      assert.equal(err.status, 401);
      assert.equal(err.signedOut, false);
      return true;
    });
    await assert.rejects(c.stepUp(alice), (err) => {
      assert.ok(err instanceof RateLimitedError);
      assert.equal(err.retryAfter, 42);
      assert.equal(err.retryable, true);
      assert.equal(err.signedOut, false);
      return true;
    });
    await assert.rejects(c.stepUp(alice), { code: 'bad_response' });
    assert.equal(f.count('POST', '/auth/step-up'), 3, 'never retried by the client');
    assert.equal(f.count('POST', '/auth/refresh'), 0, 'an invalid_credentials 401 is not a reason to refresh');
    assert.deepEqual(await c.getSession(), session);
    assert.deepEqual(seen.map((e) => e.type), ['signedIn']);
  });

  test('an access token about to expire is refreshed before the step-up', async () => {
    let now = 1_000_000;
    let bearer;
    const { c, f } = fakeClient({
      issuer: tokenIssuer({ expiresIn: 60 }),
      stepUp: (req) => {
        bearer = req.headers.get('Authorization');
        return jsonResponse(200, { access_token: 'raised-1', expires_in: 60 });
      },
      client: { now: () => now },
    });
    await c.login(alice);
    now += 61_000;
    const raised = await c.stepUp(alice);
    assert.equal(f.count('POST', '/auth/refresh'), 1);
    assert.equal(bearer, 'Bearer access-2', 'sent with the refreshed access token');
    assert.equal(raised.refreshToken, 'refresh-2');
  });

  test('a step-up whose session another tab refreshed meanwhile is not stored: session_changed', async () => {
    const storage = memoryStorage(); // shared by two tabs
    const issuer = tokenIssuer();
    let other;
    const { c } = fakeClient({
      issuer,
      client: { storage },
      stepUp: async () => {
        await other.refresh(); // the other tab rotates while the step-up is in flight
        return jsonResponse(200, { access_token: 'raised-1', expires_in: 300 });
      },
    });
    other = fakeClient({ issuer, client: { storage } }).c;
    await c.login(alice);
    await assert.rejects(c.stepUp(alice), { code: 'session_changed', retryable: true, signedOut: false });
    const now = await c.getSession();
    assert.equal(now.accessToken, 'access-2', "the other tab's refreshed pair stays");
    assert.equal(now.refreshToken, 'refresh-2');
  });
});

describe('stepUp against the example server', () => {
  let server;
  before(async () => {
    server = await startExample();
  });
  after(async () => {
    await server?.stop();
  });

  /** Calls the server without the client. */
  async function raw(method, path, token) {
    const res = await fetch(server.url + path, { method, headers: token ? { Authorization: `Bearer ${token}` } : {} });
    return res.status;
  }

  test('bearer: stepUp returns a new access token of the same session, keeps the refresh token; /api/account/export answers 200', async () => {
    const f = recordingFetch();
    const c = createClient({ baseUrl: server.url, paths: exampleRoutes.bearer, fetch: f });
    const stepped = [];
    c.on('steppedUp', (s) => stepped.push(s));
    const login = await c.login(alice);

    const raised = await c.stepUp(alice);
    const call = f.calls.find((x) => x.path === '/auth/step-up');
    assert.equal(call.method, 'POST');
    assert.equal(call.headers.get('Authorization'), `Bearer ${login.accessToken}`);
    assert.notEqual(raised.accessToken, login.accessToken, 'a new access token');
    assert.equal(raised.refreshToken, login.refreshToken, 'the refresh token is kept');
    assert.equal(raised.refreshExpiresAt, login.refreshExpiresAt);
    assert.deepEqual(stepped, [raised]);
    assert.deepEqual(await c.getSession(), raised);

    const before = claims(login.accessToken);
    const after = claims(raised.accessToken);
    assert.equal(after.sid, before.sid, 'same session');
    assert.equal(after.sub, before.sub);
    assert.ok(after.auth_time >= before.auth_time, 'authenticated again');

    const res = await c.request('/api/account/export');
    assert.equal(res.status, 200);
    assert.equal((await res.json()).subject, 'u-1001');
    assert.equal(f.calls.at(-1).headers.get('Authorization'), `Bearer ${raised.accessToken}`);
    assert.equal(await raw('GET', '/api/account/export', raised.accessToken), 200);

    // The kept refresh token still speaks for the session; the refresh is at the login's level.
    const refreshed = await c.refresh();
    assert.notEqual(refreshed.refreshToken, login.refreshToken);
    assert.equal(claims(refreshed.accessToken).sid, before.sid);
    assert.equal(claims(refreshed.accessToken).auth_time, before.auth_time);
    assert.equal((await c.request('/api/me')).status, 200);
  });

  test('bearer: a wrong password at step-up rejects invalid_credentials and keeps the session', async () => {
    const c = createClient({ baseUrl: server.url, paths: exampleRoutes.bearer });
    const signedOut = [];
    c.on('signedOut', (e) => signedOut.push(e.reason));
    const session = await c.login(alice);
    await assert.rejects(c.stepUp({ username: 'alice', password: 'nope' }), { code: 'invalid_credentials', status: 401, signedOut: false });
    await assert.rejects(c.stepUp({ username: 'bob', password: 'builder' }), { code: 'invalid_credentials', signedOut: false }, "another user's credentials");
    assert.deepEqual(await c.getSession(), session);
    assert.equal((await c.request('/api/me')).status, 200);
    assert.deepEqual(signedOut, []);
  });

  test('cookie: stepUp sends the cookies and the CSRF header, the access cookie is replaced, the refresh cookie kept', async () => {
    const jar = cookieJarFetch();
    const f = recordingFetch(jar);
    const c = createClient({ baseUrl: server.url, paths: exampleRoutes.cookie, mode: 'cookie', fetch: f });
    const login = await c.login(alice);
    const access = jar.cookie('jwtguard_access');
    const refresh = jar.cookie('jwtguard_refresh');

    const raised = await c.stepUp(alice);
    const call = f.calls.find((x) => x.path === '/web/auth/step-up');
    assert.equal(call.headers.get('X-CSRF-Token'), login.csrfToken);
    assert.equal(call.headers.get('Authorization'), null);
    assert.equal(raised.accessToken, undefined, 'no token in JS');
    assert.equal(raised.csrfToken, login.csrfToken, 'same session, same CSRF token');
    assert.equal(raised.refreshExpiresAt, login.refreshExpiresAt);
    assert.notEqual(jar.cookie('jwtguard_access'), access, 'the access cookie was replaced');
    assert.equal(jar.cookie('jwtguard_refresh'), refresh, 'the refresh cookie is kept');
    assert.equal(claims(jar.cookie('jwtguard_access')).sid, claims(access).sid);

    assert.equal((await c.request('/api/account/export')).status, 200);
    await c.refresh();
    assert.notEqual(jar.cookie('jwtguard_refresh'), refresh, 'the kept refresh cookie still refreshes');
    assert.equal((await c.request('/api/me')).status, 200);
  });
});
