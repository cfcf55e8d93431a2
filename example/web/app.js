// Browser demo of the jwtguard JavaScript client. No build step: the client's
// compiled ES modules are in ./jwtguard/ (copied by `npm run build` in
// clients/js). Every HTTP exchange of the clients goes through `recording`,
// which lists it under the action that caused it.
import { createClient, JwtGuardError } from './jwtguard/index.js';

// The page's mode: cookie (the default), bearer, or dpop: bearer tokens
// bound to a key the page holds but cannot read (DPoP, RFC 9449).
const requested = new URLSearchParams(location.search).get('mode');
const page = requested === 'bearer' || requested === 'dpop' ? requested : 'cookie';
const mode = page === 'cookie' ? 'cookie' : 'bearer';
const $ = (id) => document.getElementById(id);

/** The action whose exchanges are being listed. */
let currentStep = null;

/** A fetch that lists each exchange under the current action. */
function recording(who) {
  return async (input, init = {}) => {
    const step = currentStep;
    const method = (init.method || 'GET').toUpperCase();
    // DPoP mode: say which requests carry a proof, and whether it names a server nonce.
    const proof = new Headers(init.headers).get('DPoP');
    const by = proof ? `${who} + DPoP proof${proofNonce(proof) ? ' (with nonce)' : ''}` : who;
    try {
      const res = await fetch(input, init);
      step?.exchange(by, method, String(input), res.status, await describeBody(res.clone()));
      return res;
    } catch (err) {
      step?.exchange(by, method, String(input), 0, String(err));
      throw err;
    }
  };
}

/** Whether a DPoP proof (a JWS) carries a nonce claim. */
function proofNonce(jws) {
  try {
    const payload = jws.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return typeof JSON.parse(atob(payload)).nonce === 'string';
  } catch {
    return false;
  }
}

// Where the example server mounts its auth routes: /auth/* for bearer
// tokens, /web/auth/* for the cookie transport.
const routes = {
  bearer: { login: '/auth/login', refresh: '/auth/refresh', logout: '/auth/logout' },
  cookie: { login: '/web/auth/login', refresh: '/web/auth/refresh', logout: '/web/auth/logout' },
};

// This browser: cookies in cookie mode (sessionStorage then keeps only the
// CSRF token and expiry times, so a reload stays signed in); bearer tokens
// in memory only in bearer mode. In DPoP mode the tokens are in
// sessionStorage, where a script could read them but not use them: the
// private key is a non-extractable WebCrypto key kept in IndexedDB, so a
// reload keeps both.
const client = createClient({
  baseUrl: '',
  paths: routes[mode],
  mode,
  storage: page === 'bearer' ? undefined : sessionStorage,
  storageKey: page === 'dpop' ? 'dpop' : undefined,
  dpop: page === 'dpop',
  fetch: recording('this browser'),
});

// Another device of the same user: a bearer client, as a phone would use.
const phone = createClient({
  baseUrl: '',
  paths: routes.bearer,
  mode: 'bearer',
  storageKey: 'phone',
  fetch: recording('other device'),
});

let signedOutReason = '';
let phoneSignedOutReason = '';
client.on('signedOut', (e) => {
  signedOutReason = e.reason;
});
phone.on('signedOut', (e) => {
  phoneSignedOutReason = e.reason;
});

// ---- actions ---------------------------------------------------------------

const actions = {
  async login() {
    const credentials = { username: $('username').value, password: $('password').value };
    const s = await client.login(credentials);
    if (page === 'dpop') {
      return s.dpopThumbprint
        ? ['ok', `Signed in as ${credentials.username} (DPoP mode): the tokens are bound to key ${s.dpopThumbprint}.`]
        : ['error', `Signed in as ${credentials.username}, but the server did not bind the tokens to the key.`];
    }
    return ['ok', `Signed in as ${credentials.username} (${mode} mode).`];
  },

  async call() {
    const res = await client.request('/api/me');
    const body = await res.json().catch(() => ({}));
    if (res.ok) return ['ok', `API answered for ${body.profile?.name ?? body.subject} (session ${body.session_id}).`];
    return ['error', `API refused: ${res.status} ${body.error ?? ''}`];
  },

  async refresh() {
    const before = await client.getSession();
    await client.refresh();
    if (mode === 'cookie') {
      return ['ok', 'Refreshed: new HttpOnly cookies, the old ones are revoked on the server.'];
    }
    if (page === 'dpop') {
      const after = await client.getSession();
      const same = after?.dpopThumbprint === before?.dpopThumbprint ? 'the same' : 'ANOTHER';
      return ['ok', `Refreshed with a proof of the key: new tokens, bound to ${same} key; the old ones are revoked.`];
    }
    const refused = await proveRefused(before?.accessToken, 'previous access token');
    return ['ok', `Refreshed. ${refused}`];
  },

  async logout() {
    const before = await client.getSession();
    const result = await client.logout();
    const server = result.revoked ? 'revoked on the server' : result.queued ? 'revocation queued, retried later' : 'nothing to revoke';
    if (mode === 'cookie') {
      const res = await recording('this browser')('/api/me', { credentials: 'include' });
      const body = await res.json().catch(() => ({}));
      return ['ok', `Logged out (${server}); cookies cleared: the API now answers ${res.status} ${body.error ?? ''}.`];
    }
    if (page === 'dpop') {
      const key = result.queued ? 'the key is kept until the queued revocation is sent' : 'the key is deleted';
      return ['ok', `Logged out (${server}); ${key}.`];
    }
    const refused = await proveRefused(before?.accessToken, 'last access token');
    return ['ok', `Logged out (${server}). ${refused}`];
  },

  async logoutOthers() {
    await client.logout('others');
    if (!(await phone.isSignedIn())) {
      return ['ok', 'Other devices logged out. (Sign in the other device first to watch it being refused.)'];
    }
    try {
      const res = await phone.request('/api/me');
      return ['error', `The other device still got ${res.status}.`];
    } catch (err) {
      if (err instanceof JwtGuardError && err.signedOut) {
        return ['refused', `Other devices logged out: the other device's token is refused (${err.code}).`];
      }
      throw err;
    }
  },

  async replay() {
    const s = await client.getSession();
    if (!s?.accessToken) return ['error', 'Log in first.'];
    const asBearer = await replayWithoutKey(`Bearer ${s.accessToken}`, 'access token as Bearer');
    const noProof = await replayWithoutKey(`DPoP ${s.accessToken}`, 'access token as DPoP, no proof');
    const refused = asBearer.status === 401 && noProof.status === 401;
    return [
      refused ? 'refused' : 'error',
      `Without the key the access token is ${refused ? 'refused' : 'NOT refused'}: as Bearer ${asBearer.status} ${asBearer.error}; ` +
        `as DPoP without a proof ${noProof.status} ${noProof.error}.`,
    ];
  },

  async phoneLogin() {
    await phone.login({ username: $('username').value, password: $('password').value });
    return ['ok', 'The other device is signed in.'];
  },

  async phoneCall() {
    const res = await phone.request('/api/me');
    const body = await res.json().catch(() => ({}));
    return res.ok ? ['ok', `The other device's call succeeded (session ${body.session_id}).`] : ['error', `The other device got ${res.status} ${body.error ?? ''}.`];
  },
};

/** Sends the API an Authorization header and no DPoP proof, as a thief of the token would. */
async function replayWithoutKey(authorization, what) {
  const res = await recording(what)('/api/me', { headers: { Authorization: authorization } });
  const body = await res.json().catch(() => ({}));
  return { status: res.status, error: body.error ?? '' };
}

/** Replays an old bearer token against the API and says whether it was refused. */
async function proveRefused(token, what) {
  if (!token) return '';
  const res = await recording(what)('/api/me', { headers: { Authorization: `Bearer ${token}` } });
  const body = await res.json().catch(() => ({}));
  return res.status === 401
    ? `The ${what} is now refused: ${res.status} ${body.error}.`
    : `The ${what} unexpectedly got ${res.status}.`;
}

// ---- rendering -------------------------------------------------------------

const titles = {
  login: 'Log in',
  call: 'Call API',
  refresh: 'Refresh',
  logout: 'Log out',
  logoutOthers: 'Log out other devices',
  replay: 'Replay the access token without the key',
  phoneLogin: 'Other device: sign in',
  phoneCall: 'Other device: call API',
};

async function run(name) {
  const buttons = document.querySelectorAll('button');
  buttons.forEach((b) => (b.disabled = true));
  const step = startStep(name, titles[name]);
  currentStep = step;
  try {
    const [outcome, text] = await actions[name]();
    step.done(outcome, text);
  } catch (err) {
    step.done('error', err instanceof JwtGuardError ? `${err.code}: ${err.message}` : String(err));
  } finally {
    currentStep = null;
    buttons.forEach((b) => (b.disabled = false));
    await renderStatus();
  }
}

function startStep(name, title) {
  const li = el('li', { className: 'step', dataset: { step: name, outcome: 'pending' } });
  const heading = el('h3', {}, title);
  heading.append(el('time', {}, new Date().toLocaleTimeString()));
  const list = el('ul', { className: 'exchanges' });
  const outcome = el('p', { className: 'outcome' }, '…');
  li.append(heading, list, outcome);
  $('log').prepend(li);
  return {
    exchange(who, method, url, status, body) {
      const path = url.replace(location.origin, '');
      const row = el('li', { className: 'exchange', dataset: { method, path, status: String(status), who } });
      const req = el('span', { className: 'req' }, `${method} ${path} `);
      req.append(el('b', {}, status ? String(status) : 'no answer'), ` ${who}`);
      row.append(req, el('pre', {}, body));
      list.append(row);
    },
    done(result, text) {
      li.dataset.outcome = result;
      outcome.textContent = text;
    },
  };
}

async function renderStatus() {
  const s = await client.getSession();
  const status = $('status');
  status.dataset.state = s ? 'signed-in' : 'signed-out';
  status.dataset.jkt = s?.dpopThumbprint ?? '';
  const key = s?.dpopThumbprint ? ` · key ${s.dpopThumbprint.slice(0, 12)}…` : '';
  status.textContent = s
    ? `Signed in (${page === 'dpop' ? 'DPoP' : mode} mode)${key} · access token valid until ${new Date(s.accessExpiresAt).toLocaleTimeString()}`
    : `Signed out${signedOutReason ? ` (${signedOutReason})` : ''}`;
  const p = await phone.getSession();
  const phoneStatus = $('phone-status');
  phoneStatus.dataset.state = p ? 'signed-in' : 'signed-out';
  phoneStatus.textContent = p ? 'Signed in (bearer mode)' : `Signed out${phoneSignedOutReason ? ` (${phoneSignedOutReason})` : ''}`;
}

/** The body of an answer for display, with tokens shortened. */
async function describeBody(res) {
  if (res.status === 204) return '(no content)';
  const text = await res.text().catch(() => '');
  try {
    return JSON.stringify(JSON.parse(text), (_, v) => (typeof v === 'string' && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(v) && v.length > 40 ? `${v.slice(0, 16)}…(${v.length} chars)` : v));
  } catch {
    return text.slice(0, 300);
  }
}

function el(tag, props = {}, text) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  Object.assign(node.dataset, dataset ?? {});
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Whether the server takes DPoP: its API answers a request without a token
 * with a DPoP challenge (RFC 9449 §7.1) next to, or instead of, the Bearer
 * one. Resolves with the algorithms it names, or null when DPoP is off.
 */
async function serverDPoP() {
  try {
    const res = await fetch('/api/me');
    const challenge = /(?:^|,)\s*DPoP(?:\s+algs="([^"]*)")?/i.exec(res.headers.get('WWW-Authenticate') ?? '');
    return challenge ? challenge[1] ?? '' : null;
  } catch {
    return null;
  }
}

/** Marks the DPoP mode unavailable when the server has DPoP off; in DPoP mode, hides the actions. */
async function renderDPoPAvailability() {
  const algs = await serverDPoP();
  const link = document.querySelector('#modes a[data-mode="dpop"]');
  if (algs !== null) {
    link.title = `The server takes DPoP proofs (${algs}).`;
    return;
  }
  link.setAttribute('aria-disabled', 'true');
  link.title = 'DPoP is off on this server: start it with DPOP=optional.';
  if (page !== 'dpop') return;
  $('login-form').hidden = true;
  $('actions').hidden = true;
  $('dpop-off').hidden = false;
}

// ---- wiring ----------------------------------------------------------------

for (const a of document.querySelectorAll('#modes a')) {
  if (a.dataset.mode === page) a.setAttribute('aria-current', 'page');
}
$('replay').hidden = page !== 'dpop';
$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run('login');
});
$('call').addEventListener('click', () => run('call'));
$('refresh').addEventListener('click', () => run('refresh'));
$('logout').addEventListener('click', () => run('logout'));
$('logout-others').addEventListener('click', () => run('logoutOthers'));
$('replay').addEventListener('click', () => run('replay'));
$('phone-login').addEventListener('click', () => run('phoneLogin'));
$('phone-call').addEventListener('click', () => run('phoneCall'));
$('clear').addEventListener('click', () => $('log').replaceChildren());
Promise.all([renderStatus(), renderDPoPAvailability()]).then(() => document.body.setAttribute('data-ready', 'true'));
