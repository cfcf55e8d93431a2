// DPoP (RFC 9449) against the example with DPOP=required, with proofs made by
// panva's dpop package, an implementation nobody here wrote: a login binds
// the session to the proof's key, the API takes the token only with a fresh
// proof of that key, a proof works once, and the refresh token needs the
// key too. The proofs name PUBLIC_URL (the example's default,
// http://localhost:8080) while the requests go to the test server's own
// address, as a client behind a proxy would send them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import * as DPoP from 'dpop';

import { startExample } from './helpers/server.mjs';

const PUBLIC_URL = 'http://localhost:8080';
const alice = { username: 'alice', password: 'wonderland' };
let server;

before(async () => {
  server = await startExample({ env: { DPOP: 'required', PUBLIC_URL } });
});

after(async () => {
  await server?.stop();
});

/** Sends method path with a JSON body (or none) and headers; returns { status, headers, body }. */
async function send(method, path, { body, headers = {} } = {}) {
  const res = await fetch(server.url + path, {
    method,
    headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** A proof for method path, made for accessToken when given. */
function proof(keypair, method, path, accessToken) {
  return DPoP.generateProof(keypair, PUBLIC_URL + path, method, undefined, accessToken);
}

/**
 * A key pair for alg. The dpop package makes it, but for EdDSA, which its
 * generateKeyPair asks of WebCrypto in a form Node 20 does not take: there
 * the pair comes from WebCrypto's Ed25519 directly, and the package signs
 * with it.
 */
function keyPair(alg, options) {
  if (alg === 'EdDSA') return crypto.subtle.generateKey({ name: 'Ed25519' }, options?.extractable ?? false, ['sign', 'verify']);
  return DPoP.generateKeyPair(alg, options);
}

/** The cnf.jkt of a JWT, or undefined. */
function jktOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).cnf?.jkt;
}

for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256']) {
  describe(`DPoP with ${alg} proofs from the dpop package`, () => {
    test('login binds, each proof works once, the key is needed everywhere', async () => {
      const key = await keyPair(alg, { extractable: false });
      const thief = await keyPair(alg);

      const refused = await send('POST', '/auth/login', { body: alice });
      assert.equal(refused.status, 400, 'a login without a proof is refused');
      assert.equal(refused.body.error, 'invalid_dpop_proof');

      const login = await send('POST', '/auth/login', { body: alice, headers: { DPoP: await proof(key, 'POST', '/auth/login') } });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      assert.equal(login.body.token_type, 'DPoP');
      const jkt = await DPoP.calculateThumbprint(key.publicKey);
      assert.equal(jktOf(login.body.access_token), jkt, 'the access token is bound to the key');
      assert.equal(jktOf(login.body.refresh_token), jkt, 'so is the refresh token');
      const access = login.body.access_token;

      const p = await proof(key, 'GET', '/api/me', access);
      const me = await send('GET', '/api/me', { headers: { Authorization: `DPoP ${access}`, DPoP: p } });
      assert.equal(me.status, 200, JSON.stringify(me.body));
      assert.ok(me.body.subject, 'the guard let the request through with its subject');

      const replay = await send('GET', '/api/me', { headers: { Authorization: `DPoP ${access}`, DPoP: p } });
      assert.equal(replay.status, 401, 'a proof works once');
      assert.equal(replay.body.error, 'invalid_dpop_proof');
      assert.match(replay.headers.get('www-authenticate'), /^DPoP error="invalid_dpop_proof"/);

      const bearer = await send('GET', '/api/me', { headers: { Authorization: `Bearer ${access}` } });
      assert.equal(bearer.status, 401, 'a bound token is no bearer token');
      const stolen = await send('GET', '/api/me', { headers: { Authorization: `DPoP ${access}`, DPoP: await proof(thief, 'GET', '/api/me', access) } });
      assert.equal(stolen.status, 401, "another key's proof is refused");

      const noKey = await send('POST', '/auth/refresh', { body: { refresh_token: login.body.refresh_token }, headers: { DPoP: await proof(thief, 'POST', '/auth/refresh') } });
      assert.equal(noKey.status, 400, 'a stolen refresh token with another key is refused');
      assert.equal(noKey.body.error, 'invalid_dpop_proof');
      const refreshed = await send('POST', '/auth/refresh', { body: { refresh_token: login.body.refresh_token }, headers: { DPoP: await proof(key, 'POST', '/auth/refresh') } });
      assert.equal(refreshed.status, 200, 'the honest client refreshes afterwards: ' + JSON.stringify(refreshed.body));
      assert.equal(refreshed.body.token_type, 'DPoP');

      const access2 = refreshed.body.access_token;
      const again = await send('GET', '/api/me', { headers: { Authorization: `DPoP ${access2}`, DPoP: await proof(key, 'GET', '/api/me', access2) } });
      assert.equal(again.status, 200);

      const logout = await send('POST', '/auth/logout', { body: { refresh_token: refreshed.body.refresh_token }, headers: { DPoP: await proof(key, 'POST', '/auth/logout') } });
      assert.equal(logout.status, 204);
      const after = await send('GET', '/api/me', { headers: { Authorization: `DPoP ${access2}`, DPoP: await proof(key, 'GET', '/api/me', access2) } });
      assert.equal(after.status, 401, 'logged out');
      assert.equal(after.body.error, 'token_revoked');
    });
  });
}

test('the ath the dpop package computes is the one the server checks', async () => {
  // A sanity check of the test itself: ath = base64url(SHA-256(token)).
  const key = await DPoP.generateKeyPair('ES256');
  const token = 'a.b.c';
  const claims = JSON.parse(Buffer.from((await proof(key, 'GET', '/x', token)).split('.')[1], 'base64url').toString());
  assert.equal(claims.ath, createHash('sha256').update(token).digest('base64url'));
});

describe('DPoP server nonces (DPOP_NONCE_LIFETIME) with the dpop package', () => {
  let nonceServer;
  before(async () => {
    nonceServer = await startExample({ env: { DPOP: 'required', PUBLIC_URL, DPOP_NONCE_LIFETIME: '5m' } });
  });
  after(async () => {
    await nonceServer?.stop();
  });

  test('a proof without the nonce is refused with one to retry with', async () => {
    const at = (path) => nonceServer.url + path;
    const key = await keyPair('ES256', { extractable: false });
    const first = await fetch(at('/auth/login'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', DPoP: await proof(key, 'POST', '/auth/login') },
      body: JSON.stringify(alice),
    });
    assert.equal(first.status, 400);
    assert.equal((await first.json()).error, 'use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    assert.ok(nonce, 'the refusal carries DPoP-Nonce');

    const login = await fetch(at('/auth/login'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', DPoP: await DPoP.generateProof(key, PUBLIC_URL + '/auth/login', 'POST', nonce) },
      body: JSON.stringify(alice),
    });
    assert.equal(login.status, 200);
    const { access_token: access } = await login.json();

    const without = await fetch(at('/api/me'), { headers: { Authorization: `DPoP ${access}`, DPoP: await proof(key, 'GET', '/api/me', access) } });
    assert.equal(without.status, 401);
    assert.match(without.headers.get('www-authenticate'), /^DPoP error="use_dpop_nonce"/);
    const me = await fetch(at('/api/me'), {
      headers: { Authorization: `DPoP ${access}`, DPoP: await DPoP.generateProof(key, PUBLIC_URL + '/api/me', 'GET', without.headers.get('dpop-nonce'), access) },
    });
    assert.equal(me.status, 200);
  });
});
