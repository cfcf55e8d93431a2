// End-to-end test of the browser demo (example/web) in headless Chromium:
// Debian's chromium package, driven by playwright-core (no browser download).
// It clicks through login → call API → refresh → log out other devices →
// log out in cookie mode, then login → call API → refresh → log out in
// bearer mode, checks what the page shows and what the server accepts, and
// saves screenshots to clients/js/artifacts/ (ignored by git). This server
// has DPoP off: the page says its DPoP mode is unavailable (dpop.test.mjs
// runs that mode against a server with DPoP on).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startExample } from '../helpers/server.mjs';
import { artifacts, launchBrowser } from './page.mjs';

let server, browser, context, page, act, problems, origin;
/** Requests of the page that carried a DPoP header: none outside DPoP mode. */
const withProof = [];

before(async () => {
  server = await startExample();
  // localhost, not 127.0.0.1: browsers treat http://localhost as a secure
  // context, so the server's Secure cookies work without TLS.
  origin = `http://localhost:${server.port}`;
  browser = await launchBrowser();
  ({ context, page, act, problems } = browser);
  page.on('request', (req) => {
    if (req.headers().dpop !== undefined) withProof.push(`${req.method()} ${req.url()}`);
  });
});

/** The IndexedDB databases of the page's origin. */
const databases = () => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));

after(async () => {
  await browser?.close();
  await server?.stop();
});

const status = () => page.textContent('#status');

async function cookie(name) {
  return (await context.cookies()).find((c) => c.name === name);
}

/** Sends an old access token as the browser would, outside the browser. */
async function replayAccessCookie(value) {
  const res = await fetch(`${server.url}/api/me`, { headers: { Cookie: `jwtguard_access=${value}` } });
  return { status: res.status, error: (await res.json()).error };
}

test('cookie mode: login, call API, refresh, log out other devices, log out', { timeout: 120_000 }, async () => {
  await page.goto(`${origin}/demo/`);
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await status(), /^Signed out/);

  let step = await act('phone-login', 'phoneLogin');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(step.exchanges, ['POST /auth/login 200']);

  step = await act('login', 'login');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(step.exchanges, ['POST /web/auth/login 200']);
  assert.match(await status(), /^Signed in \(cookie mode\)/);
  const access = await cookie('jwtguard_access');
  assert.ok(access?.httpOnly, 'the access token is in an HttpOnly cookie');
  assert.equal((await cookie('jwtguard_refresh'))?.path, '/web/auth/refresh');
  assert.equal(await page.evaluate(() => document.cookie.includes('jwtguard_access')), false, 'scripts cannot read it');

  step = await act('call', 'call');
  assert.equal(step.outcome, 'ok', step.text);
  assert.match(step.text, /API answered for Alice/);
  assert.deepEqual(step.exchanges, ['GET /api/me 200']);

  step = await act('refresh', 'refresh');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(step.exchanges, ['POST /web/auth/refresh 200']);
  const refreshed = await cookie('jwtguard_access');
  assert.notEqual(refreshed.value, access.value);
  assert.deepEqual(await replayAccessCookie(access.value), { status: 401, error: 'token_revoked' }, 'the old access cookie is refused');

  step = await act('call', 'call');
  assert.equal(step.outcome, 'ok', step.text);

  step = await act('logout-others', 'logoutOthers');
  assert.equal(step.outcome, 'refused', step.text);
  assert.match(step.text, /other device's token is refused \(token_revoked\)/);
  assert.deepEqual(step.exchanges, ['POST /web/auth/logout?scope=others 204', 'GET /api/me 401', 'POST /auth/refresh 400']);
  assert.match(await page.textContent('#phone-status'), /Signed out \(token_revoked\)/);
  assert.match(await status(), /^Signed in/, 'this browser stays signed in');

  step = await act('logout', 'logout');
  assert.equal(step.outcome, 'ok', step.text);
  assert.match(step.text, /revoked on the server/, JSON.stringify(step));
  assert.deepEqual(step.exchanges, ['POST /web/auth/logout 204', 'GET /api/me 401']);
  assert.match(await status(), /^Signed out \(logout\)/);
  assert.equal(await cookie('jwtguard_access'), undefined, 'the cookies are cleared');
  assert.deepEqual(await replayAccessCookie(refreshed.value), { status: 401, error: 'token_revoked' }, 'the last access cookie is refused');

  await page.screenshot({ path: join(artifacts, 'demo-cookie.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

test('bearer mode: login, call API, refresh, log out, with the old tokens refused', { timeout: 120_000 }, async () => {
  await page.goto(`${origin}/demo/?mode=bearer`);
  await page.waitForSelector('body[data-ready="true"]');

  let step = await act('login', 'login');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(step.exchanges, ['POST /auth/login 200']);
  assert.match(await status(), /^Signed in \(bearer mode\)/);

  step = await act('call', 'call');
  assert.equal(step.outcome, 'ok', step.text);
  assert.deepEqual(step.exchanges, ['GET /api/me 200']);

  step = await act('refresh', 'refresh');
  assert.equal(step.outcome, 'ok', step.text);
  assert.match(step.text, /previous access token is now refused: 401 token_revoked/);
  assert.deepEqual(step.exchanges, ['POST /auth/refresh 200', 'GET /api/me 401']);

  step = await act('call', 'call');
  assert.equal(step.outcome, 'ok', step.text);

  step = await act('logout', 'logout');
  assert.equal(step.outcome, 'ok', step.text);
  assert.match(step.text, /revoked on the server\)\. The last access token is now refused: 401 token_revoked/);
  assert.deepEqual(step.exchanges, ['POST /auth/logout 204', 'GET /api/me 401']);
  assert.match(await status(), /^Signed out \(logout\)/);

  await page.screenshot({ path: join(artifacts, 'demo-bearer.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

test('cookie and bearer modes send no DPoP proof and open no IndexedDB', () => {
  assert.deepEqual(withProof, []);
  return databases().then((names) => assert.deepEqual(names, []));
});

test('DPoP mode on a server with DPoP off: the page says so and offers no login', { timeout: 60_000 }, async () => {
  await page.goto(`${origin}/demo/?mode=dpop`);
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.isVisible('#dpop-off'), true, 'the page explains that DPoP is off');
  assert.equal(await page.isVisible('#login-form'), false);
  assert.equal(await page.isVisible('#actions'), false);
  assert.equal(await page.getAttribute('#modes a[data-mode="dpop"]', 'aria-disabled'), 'true');
  assert.deepEqual(problems, []);
});
