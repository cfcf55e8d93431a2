// The client's DPoP mode (RFC 9449) against the example with DPOP=required:
// a login binds the session to a new key, every request, refresh and logout
// carries a fresh proof of it, the tokens alone are refused, server nonces
// are picked up with one resend, and the key lives exactly as long as
// something needs it (the session, or a logout still queued). Proofs made
// outside the client, to check what the server takes, come from panva's
// dpop package. The servers run with PUBLIC_URL set to their own address,
// so the proofs name the URLs the client calls.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import * as DPoP from 'dpop';

import { JwtGuardError, createClient, memoryStorage, webCryptoKeyProvider } from '../dist/index.js';
import { htuOf } from '../dist/dpop.js';
import { sha256Plain, utf8Plain } from '../dist/encoding.js';
import { errorResponse, fakeFetch, jsonResponse, networkFailure, recordingFetch, tokenIssuer } from './helpers/fetch.mjs';
import { claims } from './helpers/proxy.mjs';
import { exampleRoutes, startExampleAtOwnURL } from './helpers/server.mjs';

const alice = { username: 'alice', password: 'wonderland' };
let server, nonceServer;

before(async () => {
  [server, nonceServer] = await Promise.all([
    startExampleAtOwnURL({ env: { DPOP: 'required' } }),
    startExampleAtOwnURL({ env: { DPOP: 'required', DPOP_NONCE_LIFETIME: '5m' } }),
  ]);
});

after(async () => {
  await Promise.all([server?.stop(), nonceServer?.stop()]);
});

/**
 * A DPoPKeyProvider as an app would write one over its own keystore: ES256
 * WebCrypto pairs in a Map the test can look into (`pairs`), every call
 * listed in `calls`.
 */
function mapKeys() {
  const pairs = new Map();
  const calls = [];
  const view = (id) => {
    const pair = pairs.get(id);
    return pair ? { id, alg: 'ES256', jwk: pair.jwk } : null;
  };
  return {
    pairs,
    calls,
    async create() {
      const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
      const id = randomUUID();
      pairs.set(id, { ...pair, jwk });
      calls.push(`create ${id}`);
      return view(id);
    },
    async load(id) {
      calls.push(`load ${id}`);
      return view(id);
    },
    async sign(id, data) {
      const pair = pairs.get(id);
      if (!pair) throw new Error(`no key ${id}`);
      return new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, data));
    },
    async delete(id) {
      calls.push(`delete ${id}`);
      pairs.delete(id);
    },
  };
}

/** A DPoP client of srv; the fetch records every request and the JSON answers of the token routes (`answers`). */
function dpopClient(srv, { keys = mapKeys(), inner = fetch, ...options } = {}) {
  const answers = [];
  const f = recordingFetch(async (input, init) => {
    const res = await inner(input, init);
    if (/\/auth\/(login|refresh)$/.test(new URL(input).pathname)) {
      answers.push({ path: new URL(input).pathname, status: res.status, body: await res.clone().json().catch(() => null) });
    }
    return res;
  });
  const c = createClient({ baseUrl: srv.url, paths: exampleRoutes.bearer, dpop: { keys }, fetch: f, retry: { baseDelay: 20, maxDelay: 100 }, ...options });
  const seen = [];
  c.on('signedOut', (e) => seen.push(e.reason));
  return { c, f, keys, answers, seen };
}

/** The header and claims of a proof. */
function decodeProof(jws) {
  const [h, p] = jws.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
}

/** The RFC 7638 thumbprint of an EC public JWK, computed here independently of the client. */
function thumbprint(jwk) {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
}

/** GET /api/me with the given headers, outside the client. */
async function me(srv, headers) {
  const res = await fetch(`${srv.url}/api/me`, { headers });
  return { status: res.status, error: (await res.json()).error, challenge: res.headers.get('www-authenticate') };
}

/** A proof of the key pair for method srv+path, made outside the client with the dpop package. */
function outsideProof(pair, srv, method, path, accessToken, nonce) {
  return DPoP.generateProof(pair, srv.url + path, method, nonce, accessToken);
}

describe('DPoP against the example (DPOP=required)', () => {
  test('login binds the session to a new key and every API request carries a proof made for it', async () => {
    const { c, f, keys, answers } = dpopClient(server);
    const session = await c.login(alice);

    assert.equal(keys.pairs.size, 1, 'one key was made for the login');
    const [id] = keys.pairs.keys();
    const jwk = keys.pairs.get(id).jwk;
    const login = f.calls.find((x) => x.path === '/auth/login');
    const { header, payload } = decodeProof(login.headers.get('DPoP'));
    assert.equal(header.typ, 'dpop+jwt');
    assert.equal(header.alg, 'ES256');
    assert.deepEqual(Object.keys(header.jwk).sort(), ['crv', 'kty', 'x', 'y'], 'only the public members');
    assert.equal(payload.htm, 'POST');
    assert.equal(payload.htu, `${server.url}/auth/login`);
    assert.equal(payload.ath, undefined, 'no access token at login');
    assert.equal(typeof payload.jti, 'string');
    assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 5);

    assert.equal(answers[0].body.token_type, 'DPoP');
    assert.equal(session.dpopThumbprint, thumbprint(jwk));
    assert.equal(claims(session.accessToken).cnf.jkt, thumbprint(jwk), 'the access token is bound to the key');
    assert.equal(claims(session.refreshToken).cnf.jkt, thumbprint(jwk), 'so is the refresh token');

    const res = await c.request('/api/me?full=1#top');
    assert.equal(res.status, 200);
    assert.equal((await res.json()).subject, claims(session.accessToken).sub);
    const call = f.calls.at(-1);
    assert.equal(call.headers.get('Authorization'), `DPoP ${session.accessToken}`);
    const proof = decodeProof(call.headers.get('DPoP')).payload;
    assert.equal(proof.htu, `${server.url}/api/me`, 'htu without query and fragment');
    assert.equal(proof.htm, 'GET');
    assert.equal(proof.ath, createHash('sha256').update(session.accessToken).digest('base64url'));

    assert.equal((await c.request('/api/me')).status, 200, 'a second request signs a new proof');
    const jtis = f.calls.map((x) => decodeProof(x.headers.get('DPoP')).payload.jti);
    assert.equal(new Set(jtis).size, jtis.length, 'every proof has its own jti');
    c.close();
  });

  test('the access token without the key is refused, and the refusals do not end the session', async () => {
    const { c, f, seen } = dpopClient(server);
    const { accessToken } = await c.login(alice);
    assert.equal((await c.request('/api/me')).status, 200);
    const used = f.calls.at(-1).headers.get('DPoP');

    assert.equal((await me(server, { Authorization: `Bearer ${accessToken}` })).status, 401, 'as a bearer token');
    const noProof = await me(server, { Authorization: `DPoP ${accessToken}` });
    assert.equal(noProof.status, 401, 'with the DPoP scheme and no proof');
    assert.equal(noProof.error, 'invalid_dpop_proof');
    const replay = await me(server, { Authorization: `DPoP ${accessToken}`, DPoP: used });
    assert.deepEqual([replay.status, replay.error], [401, 'invalid_dpop_proof'], 'a proof the client used is not accepted twice');
    const thief = await DPoP.generateKeyPair('ES256');
    const stolen = await me(server, { Authorization: `DPoP ${accessToken}`, DPoP: await outsideProof(thief, server, 'GET', '/api/me', accessToken) });
    assert.deepEqual([stolen.status, stolen.error], [401, 'invalid_dpop_proof'], "another key's proof is refused");

    assert.equal((await c.request('/api/me')).status, 200, 'the client itself still gets through');
    assert.deepEqual(seen, []);
    c.close();
  });

  test('refresh signs a fresh proof of the same key; the old access token dies', async () => {
    const { c, f, keys } = dpopClient(server);
    const first = await c.login(alice);
    const pair = [...keys.pairs.values()][0];
    const second = await c.refresh();

    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(second.dpopThumbprint, first.dpopThumbprint);
    assert.equal(claims(second.accessToken).cnf.jkt, first.dpopThumbprint, 'the new tokens are bound to the same key');
    const refresh = f.calls.find((x) => x.path === '/auth/refresh');
    const proof = decodeProof(refresh.headers.get('DPoP'));
    assert.equal(proof.payload.htu, `${server.url}/auth/refresh`);
    assert.equal(proof.payload.ath, undefined, 'no access token is presented at refresh');
    assert.equal(thumbprint(proof.header.jwk), first.dpopThumbprint);
    assert.equal(keys.pairs.size, 1, 'no new key');

    const old = await me(server, { Authorization: `DPoP ${first.accessToken}`, DPoP: await outsideProof(pair, server, 'GET', '/api/me', first.accessToken) });
    assert.deepEqual([old.status, old.error], [401, 'token_revoked'], 'the old access token is refused even with a proof of the key');
    assert.equal((await c.request('/api/me')).status, 200);
    c.close();
  });

  test('a refresh whose answer was lost is sent again with a fresh proof, and the session goes on', async () => {
    let lose = 0;
    // The server receives and rotates, the answer never comes back.
    const losing = async (input, init) => {
      const res = await fetch(input, init);
      if (new URL(input).pathname === '/auth/refresh' && lose > 0) {
        lose--;
        await res.arrayBuffer();
        throw networkFailure();
      }
      return res;
    };
    const { c, f } = dpopClient(server, { inner: losing });
    const first = await c.login(alice);
    lose = 1;
    const second = await c.refresh();

    const refreshes = f.calls.filter((x) => x.path === '/auth/refresh');
    assert.equal(refreshes.length, 2, 'sent twice');
    const [p1, p2] = refreshes.map((x) => decodeProof(x.headers.get('DPoP')).payload);
    assert.notEqual(p1.jti, p2.jti, 'each attempt has its own proof');
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(claims(second.accessToken).cnf.jkt, first.dpopThumbprint);
    assert.equal((await c.request('/api/me')).status, 200, 'the retried refresh gave working tokens');
    c.close();
  });

  test('logout sends a proof of the key, then deletes the key', async () => {
    const { c, f, keys } = dpopClient(server);
    const session = await c.login(alice);
    const [id] = keys.pairs.keys();
    const pair = keys.pairs.get(id);

    assert.deepEqual(await c.logout(), { revoked: true, queued: false });
    const logout = f.calls.find((x) => x.path === '/auth/logout');
    const proof = decodeProof(logout.headers.get('DPoP'));
    assert.equal(thumbprint(proof.header.jwk), session.dpopThumbprint);
    assert.equal(proof.payload.htu, `${server.url}/auth/logout`);
    assert.equal(keys.pairs.size, 0, 'the key is gone');
    assert.ok(keys.calls.includes(`delete ${id}`));

    const after = await me(server, { Authorization: `DPoP ${session.accessToken}`, DPoP: await outsideProof(pair, server, 'GET', '/api/me', session.accessToken) });
    assert.deepEqual([after.status, after.error], [401, 'token_revoked'], 'revoked on the server');
    c.close();
  });

  test('a logout that cannot reach the server keeps the key until the queued logout is sent, after a restart too', async () => {
    const storage = memoryStorage();
    const keys = mapKeys();
    let offline = false;
    const flaky = (input, init) => (offline && new URL(input).pathname === '/auth/logout' ? Promise.reject(networkFailure()) : fetch(input, init));
    const first = dpopClient(server, { keys, storage, inner: flaky, logoutRetry: { baseDelay: 60_000, maxDelay: 60_000 } });
    const session = await first.c.login(alice);
    const [id] = keys.pairs.keys();
    const pair = keys.pairs.get(id);

    offline = true;
    assert.deepEqual(await first.c.logout(), { revoked: false, queued: true });
    assert.equal(await first.c.isSignedIn(), false, 'signed out locally at once');
    assert.ok(keys.pairs.has(id), 'the key is kept for the queued logout');
    assert.equal(await first.c.flushPendingLogouts(), 1, 'still offline: still queued');
    assert.ok(keys.pairs.has(id));
    first.c.close();

    // The app restarts online: a new client on the same storage and keystore sends it.
    offline = false;
    const second = dpopClient(server, { keys, storage, logoutRetry: { baseDelay: 60_000, maxDelay: 60_000 } });
    assert.equal(await second.c.pendingLogouts(), 1);
    assert.equal(await second.c.flushPendingLogouts(), 0);
    const sent = second.f.calls.filter((x) => x.path === '/auth/logout');
    assert.equal(sent.length, 1);
    assert.equal(thumbprint(decodeProof(sent[0].headers.get('DPoP')).header.jwk), session.dpopThumbprint, 'signed with the kept key');
    assert.equal(keys.pairs.has(id), false, 'deleted once the server confirmed');

    const refresh = await fetch(`${server.url}/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', DPoP: await outsideProof(pair, server, 'POST', '/auth/refresh') },
      body: JSON.stringify({ refresh_token: session.refreshToken }),
    });
    assert.equal(refresh.status, 400, 'the refresh token is revoked');
    assert.equal((await refresh.json()).error, 'invalid_grant');
    second.c.close();
  });

  test('log out other devices and step-up work with proofs made for the access token', async () => {
    const phone = dpopClient(server);
    const laptop = dpopClient(server);
    await phone.c.login(alice);
    await laptop.c.login(alice);
    const raised = await laptop.c.stepUp(alice);
    assert.equal(claims(raised.accessToken).cnf.jkt, raised.dpopThumbprint, 'the stepped-up token is bound to the same key');
    assert.equal(laptop.f.calls.at(-1).headers.get('Authorization').split(' ')[0], 'DPoP');
    assert.deepEqual(await laptop.c.logout('others'), { revoked: true, queued: false });
    const ath = decodeProof(laptop.f.calls.at(-1).headers.get('DPoP')).payload.ath;
    assert.equal(ath, createHash('sha256').update(raised.accessToken).digest('base64url'));
    await assert.rejects(phone.c.request('/api/me'), (err) => err instanceof JwtGuardError && err.signedOut);
    assert.equal(phone.keys.pairs.size, 0, "the ended session's key is deleted");
    assert.equal((await laptop.c.request('/api/me')).status, 200, 'this device stays signed in');
    phone.c.close();
    laptop.c.close();
  });

  test('dpop: true uses the default WebCrypto key provider (in memory in Node)', async () => {
    const f = recordingFetch();
    const c = createClient({ baseUrl: server.url, paths: exampleRoutes.bearer, dpop: true, fetch: f });
    const session = await c.login(alice);
    const jwk = decodeProof(f.calls[0].headers.get('DPoP')).header.jwk;
    assert.equal(claims(session.accessToken).cnf.jkt, thumbprint(jwk));
    assert.equal((await c.request('/api/me')).status, 200);
    assert.deepEqual(await c.logout(), { revoked: true, queued: false });
    c.close();
  });
});

describe('DPoP server nonces (DPOP_NONCE_LIFETIME=5m)', () => {
  test('the first proof is refused with use_dpop_nonce and the client sends once more with the nonce', async () => {
    const storage = memoryStorage();
    const keys = mapKeys();
    const { c, f, answers } = dpopClient(nonceServer, { storage, keys });
    await c.login(alice);
    assert.equal(f.count('POST', '/auth/login'), 2, 'refused once, then accepted');
    assert.deepEqual(answers.map((a) => [a.status, a.body.error ?? a.body.token_type]), [[400, 'use_dpop_nonce'], [200, 'DPoP']]);
    const [p1, p2] = f.calls.map((x) => decodeProof(x.headers.get('DPoP')).payload);
    assert.equal(p1.nonce, undefined);
    assert.equal(typeof p2.nonce, 'string');
    assert.notEqual(p1.jti, p2.jti);

    assert.equal((await c.request('/api/me')).status, 200);
    assert.equal(f.count('GET', '/api/me'), 1, 'the nonce is known now: one request');
    assert.equal(decodeProof(f.calls.at(-1).headers.get('DPoP')).payload.nonce, p2.nonce);
    c.close();

    // Another client on the same session (an app restart) knows no nonce
    // yet: the guard's 401 use_dpop_nonce is answered with one resend.
    const next = dpopClient(nonceServer, { storage, keys });
    const res = await next.c.request('/api/me');
    assert.equal(res.status, 200);
    assert.deepEqual(next.f.calls.map((x) => `${x.method} ${x.path} ${decodeProof(x.headers.get('DPoP')).payload.nonce ? 'nonce' : 'none'}`), [
      'GET /api/me none',
      'GET /api/me nonce',
    ]);
    await next.c.refresh();
    assert.equal(next.f.count('POST', '/auth/refresh'), 1, 'the refresh carries the nonce at once');
    assert.deepEqual(next.seen, []);
    next.c.close();
  });
});

describe('DPoP refusals are resent once and never end the session (fake server)', () => {
  /** A fake bearer server whose DPoP answers are given per route; login and refresh issue DPoP pairs. */
  function fakeDPoP(routes) {
    const issuer = tokenIssuer();
    const dpopPair = async () => {
      const body = await issuer.pair().json();
      return jsonResponse(200, { ...body, token_type: 'DPoP' });
    };
    return recordingFetch(fakeFetch({ 'POST /auth/login': dpopPair, 'POST /auth/refresh': dpopPair, ...routes }));
  }
  let n = 0;
  const newNonce = () => ({ 'DPoP-Nonce': `nonce-${++n}` });

  test('use_dpop_nonce at the API: one resend, then the answer as it is; tokens kept', async () => {
    const f = fakeDPoP({ 'GET /api/me': () => errorResponse(401, 'use_dpop_nonce', { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', ...newNonce() }) });
    const { c, seen } = dpopClient({ url: 'http://api.test' }, { inner: f });
    await c.login(alice);
    const res = await c.request('/api/me');
    assert.equal(res.status, 401);
    assert.equal(f.count('GET', '/api/me'), 2, 'exactly one resend');
    assert.equal(await c.isSignedIn(), true);
    assert.deepEqual(seen, []);
    assert.equal(f.count('POST', '/auth/refresh'), 0, 'a proof error is not cured by a refresh');
    c.close();
  });

  test('use_dpop_nonce without a new nonce is not resent', async () => {
    const f = fakeDPoP({ 'GET /api/me': () => errorResponse(401, 'use_dpop_nonce') });
    const { c } = dpopClient({ url: 'http://api.test' }, { inner: f });
    await c.login(alice);
    assert.equal((await c.request('/api/me')).status, 401);
    assert.equal(f.count('GET', '/api/me'), 1);
    c.close();
  });

  test('invalid_dpop_proof at refresh: one resend, the call rejects, the session stays', async () => {
    const f = fakeDPoP({ 'POST /auth/refresh': () => errorResponse(400, 'invalid_dpop_proof') });
    const { c, seen, keys } = dpopClient({ url: 'http://api.test' }, { inner: f });
    await c.login(alice);
    await assert.rejects(c.refresh(), (err) => err instanceof JwtGuardError && err.code === 'invalid_dpop_proof' && !err.signedOut);
    assert.equal(f.count('POST', '/auth/refresh'), 2, 'exactly one resend');
    assert.equal(await c.isSignedIn(), true, 'the tokens are kept');
    assert.equal(keys.pairs.size, 1, 'and the key');
    assert.deepEqual(seen, []);
    c.close();
  });

  test('use_dpop_nonce at login, again and again: two attempts, the call rejects, the key is deleted', async () => {
    const f = fakeDPoP({ 'POST /auth/login': () => errorResponse(400, 'use_dpop_nonce', newNonce()) });
    const { c, keys } = dpopClient({ url: 'http://api.test' }, { inner: f });
    await assert.rejects(c.login(alice), (err) => err instanceof JwtGuardError && err.code === 'use_dpop_nonce' && err.status === 400);
    assert.equal(f.count('POST', '/auth/login'), 2);
    assert.equal(keys.pairs.size, 0, 'the key of a failed login is deleted');
    c.close();
  });

  test('a key that is gone ends the session with dpop_key_missing', async () => {
    const f = fakeDPoP({ 'GET /api/me': () => jsonResponse(200, {}) });
    const { c, keys, seen } = dpopClient({ url: 'http://api.test' }, { inner: f });
    await c.login(alice);
    keys.pairs.clear(); // the keystore was wiped
    await assert.rejects(c.request('/api/me'), (err) => err instanceof JwtGuardError && err.code === 'dpop_key_missing' && err.signedOut);
    assert.equal(await c.isSignedIn(), false);
    assert.deepEqual(seen, ['dpop_key_missing']);
    c.close();
  });

  test('htu is the URL fetch sends: the path percent-encoded as on the wire, without query and fragment', async () => {
    const f = fakeDPoP({});
    const { c } = dpopClient({ url: 'http://api.test' }, { inner: f });
    await c.login(alice);
    await c.request("/api/files/a b/José's|x^y{z}/./😀?q=1 2#top");
    const { htu } = decodeProof(f.calls.at(-1).headers.get('DPoP')).payload;
    // What the server compares it with: its BaseURL and the path it received,
    // which fetch percent-encoded (and where it re-encodes | and ^).
    assert.equal(htu, "http://api.test/api/files/a%20b/Jos%C3%A9's%7Cx%5Ey%7Bz%7D/%F0%9F%98%80");
    c.close();
  });

  test('a request resent after use_dpop_nonce carries its body again; a stream body is not resent', async () => {
    const bodies = [];
    let nonce = 0;
    const api = async (input, init = {}) => {
      if (new URL(input).pathname !== '/api/upload') return undefined;
      const body = init.body;
      bodies.push(typeof body === 'string' ? body : body instanceof URLSearchParams ? `params ${body}` : body instanceof FormData ? `form ${body.get('name')}` : 'stream');
      const proof = decodeProof(new Headers(init.headers).get('DPoP')).payload;
      return proof.nonce
        ? jsonResponse(200, {})
        : errorResponse(401, 'use_dpop_nonce', { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': `n-${++nonce}` });
    };
    const f = fakeDPoP({});
    const inner = async (input, init) => (await api(input, init)) ?? f(input, init);
    const form = new FormData();
    form.set('name', 'alice');
    for (const [body, want] of [
      ['{"a":1}', ['{"a":1}', '{"a":1}']],
      [new URLSearchParams({ a: '1' }), ['params a=1', 'params a=1']],
      [form, ['form alice', 'form alice']],
      [new ReadableStream({ start: (ctl) => ctl.close() }), ['stream']],
    ]) {
      bodies.length = 0;
      // A new client, so that no nonce is known yet.
      const { c } = dpopClient({ url: 'http://api.test' }, { inner });
      await c.login(alice);
      const res = await c.request('/api/upload', { method: 'POST', body, duplex: 'half' });
      assert.equal(res.status, want.length === 2 ? 200 : 401);
      assert.deepEqual(bodies, want);
      c.close();
    }
  });

  test("two logins at once keep one key: the replaced session's key is deleted", async () => {
    const f = fakeDPoP({});
    const { c, keys } = dpopClient({ url: 'http://api.test' }, { inner: f });
    await Promise.all([c.login(alice), c.login(alice)]);
    await new Promise((resolve) => setImmediate(resolve)); // deletions run in the background
    const kept = [...keys.pairs.keys()];
    assert.equal(kept.length, 1, 'no key left behind');
    const session = await c.getSession();
    assert.equal(session.dpopThumbprint, thumbprint(keys.pairs.get(kept[0]).jwk), "the kept key is the stored session's");
    assert.equal((await c.request('/api/me')).status, 404, 'and it signs');
    c.close();
  });

  test('a key provider whose delete throws or returns no promise does not break login or logout', async () => {
    for (const del of [
      function (id) {
        this.pairs.delete(id); // plain JavaScript: no promise
      },
      () => {
        throw new Error('keystore locked');
      },
    ]) {
      const keys = mapKeys();
      keys.delete = del;
      const { c } = dpopClient({ url: 'http://api.test' }, { keys, inner: fakeDPoP({ 'POST /auth/logout': () => new Response(null, { status: 204 }) }) });
      await c.login(alice);
      assert.deepEqual(await c.logout(), { revoked: true, queued: false });
      c.close();
    }
  });

  test('a server that answers token_type Bearer leaves an unbound session and no key', async () => {
    const issuer = tokenIssuer();
    const f = recordingFetch(fakeFetch({ 'POST /auth/login': () => issuer.pair(), 'GET /api/me': () => jsonResponse(200, {}) }));
    const { c, keys } = dpopClient({ url: 'http://api.test' }, { inner: f });
    const session = await c.login(alice);
    assert.equal(session.dpopThumbprint, undefined);
    assert.equal(keys.pairs.size, 0);
    await c.request('/api/me');
    assert.equal(f.calls.at(-1).headers.get('Authorization'), 'Bearer access-1');
    assert.equal(f.calls.at(-1).headers.get('DPoP'), null);
    c.close();
  });
});

describe('DPoP options', () => {
  const base = { baseUrl: 'http://api.test', paths: exampleRoutes.bearer };
  test('dpop needs bearer mode and a whole key provider', () => {
    assert.throws(() => createClient({ ...base, mode: 'cookie', dpop: true }), { name: 'TypeError', message: /dpop needs mode 'bearer'/ });
    assert.throws(() => createClient({ ...base, mode: 'cookie', dpop: {} }), TypeError);
    assert.throws(() => createClient({ ...base, dpop: 'yes' }), { name: 'TypeError', message: /dpop must be true, false or DPoPOptions/ });
    assert.throws(() => createClient({ ...base, dpop: { keys: { create() {}, load() {}, sign() {} } } }), { name: 'TypeError', message: /its delete is not a function/ });
    createClient({ ...base, mode: 'cookie', dpop: false }).close();
    createClient({ ...base, dpop: { keys: mapKeys() } }).close();
  });
});

test('webCryptoKeyProvider: ES256 keys whose signatures are JOSE r‖s, gone once deleted', async () => {
  const keys = webCryptoKeyProvider({ database: null });
  const key = await keys.create();
  assert.equal(key.alg, 'ES256');
  assert.deepEqual(Object.keys(key.jwk).sort(), ['crv', 'kty', 'x', 'y']);
  assert.deepEqual(await keys.load(key.id), key);
  const data = new TextEncoder().encode('header.payload');
  const signature = await keys.sign(key.id, data);
  assert.equal(signature.length, 64, 'r‖s, not DER');
  const pub = await crypto.subtle.importKey('jwk', key.jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  assert.equal(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pub, signature, data), true);
  const other = await keys.create();
  assert.notEqual(other.id, key.id);
  assert.notDeepEqual(other.jwk, key.jwk);
  await keys.delete(key.id);
  assert.equal(await keys.load(key.id), null);
  await assert.rejects(keys.sign(key.id, data));
  assert.notEqual(await keys.load(other.id), null, 'the other key stays');
});

test('the plain SHA-256 (for runtimes without WebCrypto) matches node:crypto', () => {
  for (const len of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4099]) {
    const data = new Uint8Array(len).map((_, i) => (i * 31 + len) & 255);
    assert.equal(Buffer.from(sha256Plain(data)).toString('hex'), createHash('sha256').update(data).digest('hex'), `length ${len}`);
  }
});

test('the plain UTF-8 (for runtimes without TextEncoder) matches TextEncoder, lone surrogates included', () => {
  const samples = ['', 'ascii', 'é', 'José', '€ 100', '😀', 'a😀b', '\ud800', '\udc00x', 'a\ud83d', '\ud83d\ud83d\ude00', '\u0000\u007f\u0080\u07ff\u0800\uffff'];
  for (const s of samples) {
    assert.deepEqual(Buffer.from(utf8Plain(s)), Buffer.from(new TextEncoder().encode(s)), JSON.stringify(s));
    assert.equal(Buffer.from(sha256Plain(utf8Plain(s))).toString('hex'), createHash('sha256').update(s, 'utf8').digest('hex'));
  }
});

test('htu without a working URL (React Native) is percent-encoded the same way', () => {
  const url = "http://api.test/api/files/a b/José's|x^y{z}/😀?q=1#top";
  const parsed = htuOf(url);
  const real = globalThis.URL;
  // React Native's URL parses but throws from its getters.
  globalThis.URL = class {
    get protocol() {
      throw new Error('not implemented');
    }
  };
  try {
    assert.equal(htuOf(url), parsed);
    assert.equal(htuOf('http://api.test'), 'http://api.test/');
  } finally {
    globalThis.URL = real;
  }
});
