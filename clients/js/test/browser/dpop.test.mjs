// The demo's DPoP mode in headless Chromium, against the example with
// DPOP=optional and PUBLIC_URL the very origin the browser uses (proofs name
// it): login binds the session to a WebCrypto key kept non-extractable in
// IndexedDB, the API and refresh work with proofs, the access token without
// the key is refused, a reload keeps the session and the key, and logout
// deletes the key. Saves clients/js/artifacts/demo-dpop.png (before the
// reload) and demo-dpop-reloaded.png.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startExampleAtOwnURL } from '../helpers/server.mjs';
import { artifacts, launchBrowser } from './page.mjs';

let server, browser, page, act, problems;

before(async () => {
  // localhost: a secure context for WebCrypto and the cookies.
  server = await startExampleAtOwnURL({ host: 'localhost', env: { DPOP: 'optional' } });
  browser = await launchBrowser();
  ({ page, act, problems } = browser);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const status = () => page.textContent('#status');
const thumbprintShown = () => page.getAttribute('#status', 'data-jkt');

/** The key pairs the client keeps in IndexedDB, as the page sees them. */
function storedKeys() {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('jwtguard-dpop');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const all = open.result.transaction('keys', 'readonly').objectStore('keys').getAll();
          all.onerror = () => reject(all.error);
          all.onsuccess = () => {
            open.result.close();
            resolve(
              all.result.map((r) => ({
                privateType: r.privateKey.type,
                privateExtractable: r.privateKey.extractable,
                algorithm: `${r.privateKey.algorithm.name} ${r.privateKey.algorithm.namedCurve}`,
                usages: r.privateKey.usages,
                jwk: r.jwk,
              })),
            );
          };
        };
      }),
  );
}

/** The RFC 7638 thumbprint of an EC public JWK, computed here. */
function thumbprint(jwk) {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
}

/** The session the page keeps in sessionStorage. */
async function storedSession() {
  return JSON.parse(await page.evaluate(() => sessionStorage.getItem('dpop.session')));
}

test('DPoP mode: login, call API, replay without the key, refresh, reload, log out', { timeout: 120_000 }, async () => {
  await page.goto(`${server.url}/demo/?mode=dpop`);
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await status(), /^Signed out/);
  assert.equal(await page.isVisible('#dpop-off'), false, 'the page saw that the server takes DPoP');
  assert.equal(await page.isVisible('#replay'), true);

  let step = await act('login', 'login');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(step.exchanges, ['POST /auth/login 200']);
  assert.match(await status(), /^Signed in \(DPoP mode\) · key /);
  const jkt = await thumbprintShown();
  assert.match(step.text, new RegExp(`bound to key ${jkt}`));

  const keys = await storedKeys();
  assert.equal(keys.length, 1, 'one key in IndexedDB');
  assert.equal(keys[0].privateType, 'private');
  assert.equal(keys[0].privateExtractable, false, 'the private key cannot be exported');
  assert.equal(keys[0].algorithm, 'ECDSA P-256');
  assert.deepEqual(keys[0].usages, ['sign']);
  assert.equal(thumbprint(keys[0].jwk), jkt, "the session's thumbprint is the stored key's");
  const session = await storedSession();
  const claims = JSON.parse(Buffer.from(session.accessToken.split('.')[1], 'base64url'));
  assert.equal(claims.cnf.jkt, jkt, 'the access token is bound to that key');

  step = await act('call', 'call');
  assert.equal(step.outcome, 'ok', step.text);
  assert.match(step.text, /API answered for Alice/);
  assert.deepEqual(step.exchanges, ['GET /api/me 200']);
  assert.equal(await page.getAttribute('#log > li .exchange', 'data-who'), 'this browser + DPoP proof', 'the page shows the proof');

  step = await act('replay', 'replay');
  assert.equal(step.outcome, 'refused', step.text);
  assert.deepEqual(step.exchanges, ['GET /api/me 401', 'GET /api/me 401']);
  assert.match(step.text, /as Bearer 401 token_invalid; as DPoP without a proof 401 invalid_dpop_proof/);
  // And outside the browser, where a thief would use it.
  const stolen = await fetch(`${server.url}/api/me`, { headers: { Authorization: `DPoP ${session.accessToken}` } });
  assert.equal(stolen.status, 401);

  step = await act('refresh', 'refresh');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(step.exchanges, ['POST /auth/refresh 200']);
  assert.match(step.text, /bound to the same key/);
  assert.equal(await thumbprintShown(), jkt);
  assert.notEqual((await storedSession()).accessToken, session.accessToken);

  await page.screenshot({ path: join(artifacts, 'demo-dpop.png'), fullPage: true });
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await status(), /^Signed in \(DPoP mode\)/, 'the session survives the reload');
  assert.equal(await thumbprintShown(), jkt, 'with the same key');
  step = await act('call', 'call');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(step.exchanges, ['GET /api/me 200'], 'the key from IndexedDB signs after the reload');
  assert.equal((await storedKeys()).length, 1);

  step = await act('logout', 'logout');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(step.exchanges, ['POST /auth/logout 204']);
  assert.match(step.text, /revoked on the server\); the key is deleted/);
  assert.match(await status(), /^Signed out \(logout\)/);
  await page.waitForFunction(
    () =>
      new Promise((resolve) => {
        const open = indexedDB.open('jwtguard-dpop');
        open.onsuccess = () => {
          const count = open.result.transaction('keys', 'readonly').objectStore('keys').count();
          count.onsuccess = () => {
            open.result.close();
            resolve(count.result === 0);
          };
        };
      }),
    null,
    { timeout: 5_000 },
  );

  await page.screenshot({ path: join(artifacts, 'demo-dpop-reloaded.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

test('DPoP mode: the client lets another page delete its key database, and keeps the next key in a new one', { timeout: 120_000 }, async () => {
  await page.goto(`${server.url}/demo/?mode=dpop`);
  await page.waitForSelector('body[data-ready="true"]');
  let step = await act('login', 'login');
  assert.equal(step.outcome, 'ok', step.text);
  assert.equal((await storedKeys()).length, 1);

  // Deleting (or upgrading) a database waits for every open connection to
  // close: the client must close its own when asked (versionchange).
  const deletion = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const req = indexedDB.deleteDatabase('jwtguard-dpop');
        req.onsuccess = () => resolve('deleted');
        req.onerror = () => resolve(`error: ${req.error}`);
        req.onblocked = () => setTimeout(() => resolve('blocked by an open connection'), 3_000);
      }),
  );
  assert.equal(deletion, 'deleted');

  // The page still holds the key it loaded: logout signs with it, and the
  // key's deletion opens the database anew.
  step = await act('logout', 'logout');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(step.exchanges, ['POST /auth/logout 204']);
  step = await act('login', 'login');
  assert.equal(step.outcome, 'ok', step.text);
  const jkt = await thumbprintShown();
  const keys = await storedKeys();
  assert.equal(keys.length, 1, 'the new key is in the new database');
  assert.equal(thumbprint(keys[0].jwk), jkt);

  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  step = await act('call', 'call');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(step.exchanges, ['GET /api/me 200'], 'the key from the new database signs after a reload');
  step = await act('logout', 'logout');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(problems, []);
});
