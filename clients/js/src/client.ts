import { resolveOptions, type Config } from './config.js';
import { JwtGuardError, errorFromResponse, networkError } from './errors.js';
import { Emitter, type Listener } from './events.js';
import { IDEMPOTENT_METHODS, discard, readCookie, resolveUrl } from './http.js';
import { LogoutQueue, type PendingLogout } from './logout.js';
import { Refresher } from './refresh.js';
import { Authorizer } from './request.js';
import { isStale, publicSession, sessionFromResponse, type StoredSession } from './session.js';
import { SessionState } from './state.js';
import { stepUp } from './stepup.js';
import type { ClientEvents, ClientOptions, LoginOptions, LogoutResult, LogoutScope, Mode, Session, StepUpOptions } from './types.js';

/**
 * A client of a jwtguard server, made by {@link createClient}. It logs in,
 * attaches the access token (or lets the browser attach the cookie),
 * refreshes once for any number of concurrent requests, and logs out in a
 * way that always completes locally and is retried until the server has
 * revoked the session.
 */
export interface JwtGuardClient {
  /** The transport of this client. */
  readonly mode: Mode;
  /** Settles when the stored session has been read; every method waits for it. */
  readonly ready: Promise<void>;

  /**
   * Logs in with `credentials`, sent as the JSON body of the login route
   * (such as `{username, password}`). A session already open on this client
   * is logged out first. With DPoP, a new key pair is made first and the
   * login carries a proof of it, which binds the session to it. Rejects
   * with a `JwtGuardError`: `invalid_credentials` (401), `bad_request`
   * (400), `store_unavailable` (503, retryable), `network_error`
   * (retryable), `too_many_requests` (429, a `RateLimitedError` with
   * `retryAfter`), `use_dpop_nonce` / `invalid_dpop_proof` (400, after one
   * resend with a fresh proof).
   */
  login(credentials: unknown, options?: LoginOptions): Promise<Session>;

  /**
   * Step-up authentication (RFC 9470), after a `StepUpRequiredError`: sends
   * `credentials` (such as `{username, password}`, or whatever the server's
   * step-up route checks) as the JSON body of `paths.stepUp`, with the
   * current access token (bearer mode) or the cookies and the CSRF header
   * (cookie mode). The answer's access token (the access cookie, in cookie
   * mode) replaces the current one and `steppedUp` is emitted; the refresh
   * token is kept, so a later refresh returns tokens at the login's level.
   * Rejects with a TypeError when `paths.stepUp` is not configured, and
   * with a `JwtGuardError` keeping the session: `invalid_credentials`
   * (401), `too_many_requests` (429, a `RateLimitedError`),
   * `not_signed_in`, `network_error`, `session_changed` (a refresh replaced
   * the session meanwhile: step up again), or as `request` when the session
   * turns out to be over (`signedOut`).
   */
  stepUp(credentials: unknown, options?: StepUpOptions): Promise<Session>;

  /**
   * Like `fetch`, for the API behind `baseUrl`: `input` is a path (or an
   * absolute URL of the same origin) and the access token goes along. An
   * access token that is expired, or about to be, is refreshed first; a
   * 401 `token_expired` / `token_revoked` triggers one refresh and one retry
   * (the refresh signs out only if it fails with a 401), and a second 401 is
   * returned as it is; a 401 `session_expired` signs out at once. However
   * many requests need a refresh at once, one refresh request is sent and
   * they all wait for it.
   * Idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE) are retried with
   * backoff after network errors and 429/502/503/504. The body must be
   * re-sendable (a string, Blob, FormData, URLSearchParams or buffer; with a
   * stream there is no retry).
   *
   * Resolves with the server's answer to the request. Rejects with a
   * `JwtGuardError` when no usable token could be had: `not_signed_in`,
   * a refresh that failed for a while or whose answer was lost
   * (`store_unavailable`, `network_error`; tokens kept, `retryable`: the
   * next call retries with the same refresh token), or a refresh or answer
   * that ended the session (`refresh_reused`, `token_revoked`,
   * `session_expired`, …; `signedOut`). A 401
   * `insufficient_user_authentication` (RFC 9470 step-up challenge) rejects
   * with a `StepUpRequiredError` (`maxAge`, `acrValues`) and emits
   * `stepUpRequired`; the tokens are kept and no refresh is tried. A 429 is
   * never a sign-out: an idempotent request is retried unless the server's
   * `Retry-After` is longer than `retry.maxDelay`, and the last 429 is
   * returned as it is.
   *
   * With DPoP, each attempt carries `Authorization: DPoP` and a fresh proof
   * made for the access token; a `use_dpop_nonce` or `invalid_dpop_proof`
   * answer is signed again and sent once more, then returned as it is, the
   * tokens kept.
   */
  request(input: string | URL, init?: RequestInit): Promise<Response>;

  /**
   * Refreshes now, sharing a refresh already in flight. Usually unneeded:
   * `request` refreshes by itself. Rejects like a refresh inside `request`.
   */
  refresh(): Promise<Session>;

  /**
   * Logs out. With scope `local` (the default) or `global` the local session
   * is cleared at once, whatever the network does, and `signedOut` is
   * emitted with reason `logout`; the revocation is then sent with the
   * refresh token (valid even when the access token has expired) or the
   * cookies. If the server cannot be reached or is unavailable, the
   * revocation is queued in storage and retried in the background, so the
   * refresh token does not stay alive on the server. In cookie mode, an
   * access cookie one rotation behind (the last refresh's answer was lost)
   * is refused with `token_revoked`: the cookies are then renewed once and
   * the revocation sent again. With DPoP, the revocation carries a proof
   * of the session's key, which is deleted once the revocation is settled
   * (a queued one keeps it until then). This never rejects.
   *
   * With scope `others` this device stays signed in: it needs a valid
   * session, and rejects with a `JwtGuardError` when the server refuses or
   * cannot be reached.
   */
  logout(scope?: LogoutScope): Promise<LogoutResult>;

  /**
   * Sends the queued logouts now (they are also retried by a timer, and in
   * browsers when the network comes back). Resolves with how many are still
   * pending. On React Native, call it when NetInfo reports a connection or
   * the app comes to the foreground.
   */
  flushPendingLogouts(): Promise<number>;

  /** How many logouts wait for the server. */
  pendingLogouts(): Promise<number>;

  /** The current session (read again from storage), or null when signed out. */
  getSession(): Promise<Session | null>;

  /** Whether a session is stored. It may still turn out revoked on the server. */
  isSignedIn(): Promise<boolean>;

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof ClientEvents>(type: K, listener: (event: ClientEvents[K]) => void): () => void;

  /**
   * Stops the background retries of queued logouts (they stay in storage
   * and are sent by the next client created on it). The client can still
   * be used.
   */
  close(): void;
}

/**
 * Creates a client of a jwtguard server. `baseUrl` and `paths` (the
 * server's login, refresh and logout routes) are required; see
 * {@link ClientOptions}. Throws a TypeError for a missing or invalid option.
 */
export function createClient(options: ClientOptions): JwtGuardClient {
  return new Client(resolveOptions(options));
}

class Client implements JwtGuardClient {
  readonly mode: Mode;
  readonly ready: Promise<void>;

  private readonly state: SessionState;
  private readonly events = new Emitter();
  private readonly refresher: Refresher;
  private readonly authorizer: Authorizer;
  private readonly logouts: LogoutQueue;
  private readonly onOnline = (): void => {
    if (this.logouts.size > 0) void this.flushPendingLogouts();
  };

  constructor(private readonly cfg: Config) {
    this.mode = cfg.mode;
    this.state = new SessionState(cfg);
    this.refresher = new Refresher(cfg, this.state, this.events);
    this.authorizer = new Authorizer(cfg, this.state, this.refresher, this.events);
    this.logouts = new LogoutQueue(cfg, this.state, () => void this.flushPendingLogouts());

    this.ready = this.state
      .serial(async () => {
        this.state.session = await this.state.read().catch(() => null);
        this.logouts.load(await Promise.resolve(cfg.storage.getItem(cfg.queueKey)).catch(() => null));
      })
      .then(() => this.logouts.schedule(0));
    const target = globalThis as { addEventListener?: (type: string, listener: () => void) => void };
    if (typeof target.addEventListener === 'function') target.addEventListener('online', this.onOnline);
  }

  async login(credentials: unknown, options: LoginOptions = {}): Promise<Session> {
    await this.ready;
    if (this.state.session ?? (await this.state.reload())) await this.logout('local');
    const headers = new Headers(options.headers);
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
    headers.set('Accept', 'application/json');
    // DPoP: a new key for every login, made before the request that binds it.
    const { dpop } = this.cfg;
    const key = dpop ? await dpop.createKey() : undefined;
    let next: StoredSession;
    try {
      let res: Response;
      try {
        res = await (dpop && key ? dpop.fetch(key.id) : this.cfg.fetch)(resolveUrl(this.cfg.base, this.cfg.paths.login), {
          method: 'POST',
          headers,
          body: JSON.stringify(credentials),
          credentials: this.mode === 'cookie' ? 'include' : 'same-origin',
          signal: options.signal,
        });
      } catch (err) {
        if (options.signal?.aborted || err instanceof JwtGuardError) throw err;
        throw networkError(err);
      }
      if (!res.ok) throw await errorFromResponse(res, this.cfg.now);
      next = await sessionFromResponse(res, this.cfg, key && { key: key.id, thumbprint: key.thumbprint });
    } catch (err) {
      dpop?.deleteKey(key?.id);
      throw err;
    }
    // token_type Bearer: the server did not bind (DPoP is off there).
    if (key && next.dpopKey === undefined) dpop?.deleteKey(key.id);
    await this.state.serial(async () => {
      // Another login that finished meanwhile (here or in another tab) is
      // replaced: nothing will use its DPoP key any more.
      const replaced = await this.state.read().catch(() => null);
      if (replaced?.dpopKey !== undefined && replaced.dpopKey !== next.dpopKey) dpop?.deleteKey(replaced.dpopKey);
      this.state.epoch++;
      await this.state.write(next);
      if (this.mode === 'cookie' && this.logouts.size > 0) {
        // A queued cookie logout would now carry the new session's
        // cookies: the browser replaced the old ones, so drop it.
        await this.logouts.clear();
      }
    });
    const session = publicSession(next);
    this.events.emit('signedIn', session);
    return session;
  }

  async stepUp(credentials: unknown, options: StepUpOptions = {}): Promise<Session> {
    await this.ready;
    const session = publicSession(await stepUp(this.cfg, this.state, this.authorizer, credentials, options));
    this.events.emit('steppedUp', session);
    return session;
  }

  async request(input: string | URL, init: RequestInit = {}): Promise<Response> {
    await this.ready;
    const url = resolveUrl(this.cfg.base, input);
    const method = (init.method ?? 'GET').toUpperCase();
    return this.authorizer.send(url, { ...init, method }, IDEMPOTENT_METHODS.has(method));
  }

  async refresh(): Promise<Session> {
    await this.ready;
    return publicSession(await this.refresher.once());
  }

  async logout(scope: LogoutScope = 'local'): Promise<LogoutResult> {
    await this.ready;
    if (scope === 'others') return this.logoutOthers();
    if (scope !== 'local' && scope !== 'global') {
      throw new TypeError(`logout: scope must be 'local', 'others' or 'global', not ${String(scope)}`);
    }
    const { cfg, state } = this;
    // A refresh in flight is about to replace the tokens: revoke with the
    // newest ones (scope global needs a token that passes every check).
    const inFlight = this.refresher.inFlight;
    if (inFlight) await inFlight.catch(() => undefined);
    // In cookie mode that token is the access cookie (the refresh cookie
    // only goes to the refresh route): renew it first if it has expired.
    if (scope === 'global' && this.mode === 'cookie' && state.session && isStale(state.session, cfg)) {
      await this.refresher.once().catch(() => undefined);
    }
    const ended = await state.serial(async () => {
      const current = await state.read().catch(() => state.session);
      state.epoch++;
      await state.clear().catch(() => undefined);
      return current;
    });
    if (ended) this.events.emit('signedOut', { reason: 'logout' });

    const entry: PendingLogout = {
      mode: this.mode,
      scope,
      refreshToken: ended?.refreshToken,
      csrfToken: ended?.csrfToken ?? (this.mode === 'cookie' ? readCookie(cfg.csrfCookie) : undefined),
      expiresAt: ended?.refreshExpiresAt ?? cfg.now() + 24 * 3600_000,
    };
    // The revocation of a DPoP-bound session needs a proof of its key: the
    // queue deletes the key once the revocation is settled.
    if (ended?.dpopKey !== undefined) entry.dpopKey = ended.dpopKey;
    // Cookie mode without a local session may still have cookies from an
    // earlier page load: the readable CSRF cookie tells.
    if (this.mode === 'bearer' ? !entry.refreshToken : !entry.csrfToken) return { revoked: false, queued: false };
    return this.logouts.submit(entry);
  }

  async flushPendingLogouts(): Promise<number> {
    await this.ready;
    return this.logouts.flush();
  }

  async pendingLogouts(): Promise<number> {
    await this.ready;
    return this.logouts.size;
  }

  async getSession(): Promise<Session | null> {
    await this.ready;
    const s = await this.state.reload();
    return s && publicSession(s);
  }

  async isSignedIn(): Promise<boolean> {
    return (await this.getSession()) !== null;
  }

  on<K extends keyof ClientEvents>(type: K, listener: Listener<K>): () => void {
    return this.events.on(type, listener);
  }

  close(): void {
    this.logouts.close();
    const target = globalThis as { removeEventListener?: (type: string, listener: () => void) => void };
    if (typeof target.removeEventListener === 'function') target.removeEventListener('online', this.onOnline);
  }

  /** Ends the user's other sessions; this one must be valid and stays. */
  private async logoutOthers(): Promise<LogoutResult> {
    const url = `${resolveUrl(this.cfg.base, this.cfg.paths.logout)}?scope=others`;
    const res = await this.authorizer.send(url, { method: 'POST' }, true);
    if (!res.ok) throw await errorFromResponse(res, this.cfg.now);
    discard(res);
    return { revoked: true, queued: false };
  }
}
