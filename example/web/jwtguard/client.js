// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
import { JwtGuardError, errorFromResponse, isTransientStatus, networkError, readErrorBody, } from './errors.js';
import { memoryStorage } from './storage.js';
/** The routes of the bearer transport, as the jwtguard example mounts them. */
export const bearerPaths = Object.freeze({
    login: '/auth/login',
    refresh: '/auth/refresh',
    logout: '/auth/logout',
});
/** The routes of the cookie transport, as the jwtguard example mounts them. */
export const cookiePaths = Object.freeze({
    login: '/web/auth/login',
    refresh: '/web/auth/refresh',
    logout: '/web/auth/logout',
});
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** 401 codes of a guarded route that a refresh can cure. */
const REFRESHABLE = new Set(['token_expired', 'token_revoked', 'token_missing']);
/** Logout entries kept at most; the oldest go first. */
const MAX_PENDING_LOGOUTS = 20;
/** Creates a client. See {@link ClientOptions}. */
export function createClient(options) {
    return new JwtGuardClient(options);
}
/**
 * A client of a jwtguard server. It logs in, attaches the access token (or
 * lets the browser attach the cookie), refreshes once for any number of
 * concurrent requests, and logs out in a way that always completes locally
 * and is retried until the server has revoked the session.
 */
export class JwtGuardClient {
    constructor(options) {
        /** Cache of the stored session; storage is read again where another tab may have changed it. */
        this.session = null;
        /** Advances on every login and sign-out: a refresh that started before one must not store its result. */
        this.epoch = 0;
        /** The refresh in flight, shared by everyone who needs it. */
        this.refreshing = null;
        /** Serializes storage reads and writes. */
        this.chain = Promise.resolve();
        this.queue = [];
        this.flushing = null;
        this.flushTimer = null;
        this.flushFailures = 0;
        this.closed = false;
        this.listeners = {
            signedIn: new Set(),
            refreshed: new Set(),
            signedOut: new Set(),
        };
        this.onOnline = () => {
            if (this.queue.length > 0)
                void this.flushPendingLogouts();
        };
        if (typeof options?.baseUrl !== 'string')
            throw new TypeError('createClient: baseUrl is required');
        this.mode = options.mode ?? 'bearer';
        if (this.mode !== 'bearer' && this.mode !== 'cookie') {
            throw new TypeError(`createClient: mode must be 'bearer' or 'cookie', not ${String(this.mode)}`);
        }
        this.base = options.baseUrl.replace(/\/+$/, '');
        this.paths = { ...(this.mode === 'cookie' ? cookiePaths : bearerPaths), ...options.paths };
        this.storage = options.storage ?? memoryStorage();
        const prefix = options.storageKey ?? 'jwtguard';
        this.sessionKey = `${prefix}.session`;
        this.queueKey = `${prefix}.pending_logout`;
        const globalFetch = globalThis.fetch;
        this.fetchImpl = options.fetch ?? ((input, init) => globalFetch(input, init));
        this.refreshMargin = options.refreshMargin ?? 10000;
        this.retry = { attempts: 4, baseDelay: 200, maxDelay: 2000, ...options.retry };
        this.logoutRetry = { baseDelay: 2000, maxDelay: 300000, ...options.logoutRetry };
        this.logoutTimeout = options.logoutTimeout ?? 10000;
        this.csrfHeader = options.csrfHeader ?? 'X-CSRF-Token';
        this.csrfCookie = options.csrfCookie ?? 'jwtguard_csrf';
        this.now = options.now ?? Date.now;
        this.ready = this.serial(async () => {
            this.session = await this.readSession().catch(() => null);
            this.queue = parseQueue(await Promise.resolve(this.storage.getItem(this.queueKey)).catch(() => null), this.mode);
        }).then(() => this.scheduleFlush(0));
        const target = globalThis;
        if (typeof target.addEventListener === 'function')
            target.addEventListener('online', this.onOnline);
    }
    /**
     * Logs in with `credentials`, sent as the JSON body of the login route
     * (the example reads `{username, password}`). A session already open on
     * this client is logged out first. Rejects with a {@link JwtGuardError}:
     * `invalid_credentials` (401), `bad_request` (400), `store_unavailable`
     * (503, retryable), `network_error` (retryable).
     */
    async login(credentials, options = {}) {
        await this.ready;
        if (this.session ?? (await this.reload()))
            await this.logout('local');
        const headers = new Headers(options.headers);
        if (!headers.has('Content-Type'))
            headers.set('Content-Type', 'application/json');
        headers.set('Accept', 'application/json');
        let res;
        try {
            res = await this.fetchImpl(this.url(this.paths.login), {
                method: 'POST',
                headers,
                body: JSON.stringify(credentials),
                credentials: this.credentials(),
                signal: options.signal,
            });
        }
        catch (err) {
            if (options.signal?.aborted)
                throw err;
            throw networkError(err);
        }
        if (!res.ok)
            throw await errorFromResponse(res);
        const next = await this.sessionFrom(res);
        await this.serial(async () => {
            this.epoch++;
            this.session = next;
            await this.storage.setItem(this.sessionKey, JSON.stringify(next));
            if (this.mode === 'cookie' && this.queue.length > 0) {
                // A queued cookie logout would now carry the new session's
                // cookies: the browser replaced the old ones, so drop it.
                this.queue = [];
                await this.saveQueue();
            }
        });
        const session = publicSession(next);
        this.emit('signedIn', session);
        return session;
    }
    /**
     * Like `fetch`, for the API behind `baseUrl`: `input` is a path (or an
     * absolute URL of the same origin) and the access token goes along. An
     * access token that is expired, or about to be, is refreshed first; a
     * 401 `token_expired` / `token_revoked` triggers one refresh and one retry,
     * and a second 401 is returned as it is. However many requests need a
     * refresh at once, one refresh request is sent and they all wait for it.
     * Idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE) are retried with
     * backoff after network errors and 429/502/503/504. The body must be
     * re-sendable (a string, Blob, FormData, URLSearchParams or buffer; with a
     * stream there is no retry).
     *
     * Resolves with the server's answer to the request. Rejects with a
     * {@link JwtGuardError} when no usable token could be had: `not_signed_in`,
     * a refresh that failed for a while (`store_unavailable`, `network_error`;
     * tokens kept, `retryable`), or a refresh that ended the session
     * (`refresh_reused`, `token_revoked`, `session_expired`, …; `signedOut`).
     */
    async request(input, init = {}) {
        await this.ready;
        const url = this.url(input);
        const method = (init.method ?? 'GET').toUpperCase();
        return this.authed(url, { ...init, method }, IDEMPOTENT_METHODS.has(method));
    }
    /**
     * Refreshes now, sharing a refresh already in flight. Usually unneeded:
     * {@link request} refreshes by itself. Rejects like a refresh inside
     * {@link request}.
     */
    async refresh() {
        await this.ready;
        return publicSession(await this.refreshOnce());
    }
    /**
     * Logs out. With scope `local` (the default) or `global` the local session
     * is cleared at once, whatever the network does, and `signedOut` is
     * emitted with reason `logout`; the revocation is then sent with the
     * refresh token (valid even when the access token has expired) or the
     * cookies. If the server cannot be reached or is unavailable, the
     * revocation is queued in storage and retried in the background, so the
     * refresh token does not stay alive on the server. This never rejects.
     *
     * With scope `others` this device stays signed in: it needs a valid
     * session, and rejects with a {@link JwtGuardError} when the server
     * refuses or cannot be reached.
     */
    async logout(scope = 'local') {
        await this.ready;
        if (scope === 'others')
            return this.logoutOthers();
        if (scope !== 'local' && scope !== 'global') {
            throw new TypeError(`logout: scope must be 'local', 'others' or 'global', not ${String(scope)}`);
        }
        // A refresh in flight is about to replace the tokens: revoke with the
        // newest ones (scope global needs a token that passes every check).
        if (this.refreshing)
            await this.refreshing.catch(() => undefined);
        // In cookie mode that token is the access cookie (the refresh cookie
        // only goes to the refresh route): renew it first if it has expired.
        if (scope === 'global' && this.mode === 'cookie' && this.session && this.isStale(this.session)) {
            await this.refreshOnce().catch(() => undefined);
        }
        const ended = await this.serial(async () => {
            const current = await this.readSession().catch(() => this.session);
            this.epoch++;
            this.session = null;
            await Promise.resolve(this.storage.removeItem(this.sessionKey)).catch(() => undefined);
            return current;
        });
        if (ended)
            this.emit('signedOut', { reason: 'logout' });
        const entry = {
            mode: this.mode,
            scope,
            refreshToken: ended?.refreshToken,
            csrfToken: ended?.csrfToken ?? (this.mode === 'cookie' ? readCookie(this.csrfCookie) : undefined),
            expiresAt: ended?.refreshExpiresAt ?? this.now() + 24 * 3600000,
        };
        // Cookie mode without a local session may still have cookies from an
        // earlier page load: the readable CSRF cookie tells.
        if (this.mode === 'bearer' ? !entry.refreshToken : !entry.csrfToken)
            return { revoked: false, queued: false };
        const outcome = await this.sendLogout(entry);
        if (outcome !== 'retry')
            return { revoked: outcome === 'revoked', queued: false };
        await this.serial(async () => {
            this.queue = [...this.queue, entry].slice(-MAX_PENDING_LOGOUTS);
            await this.saveQueue().catch(() => undefined);
        });
        this.scheduleFlush();
        return { revoked: false, queued: true };
    }
    /**
     * Sends the queued logouts now (they are also retried by a timer, and in
     * browsers when the network comes back). Resolves with how many are still
     * pending. On React Native, call it when NetInfo reports a connection or
     * the app comes to the foreground.
     */
    async flushPendingLogouts() {
        await this.ready;
        if (!this.flushing) {
            const run = this.flushQueue();
            this.flushing = run;
            const done = () => {
                if (this.flushing === run)
                    this.flushing = null;
            };
            run.then(done, done);
        }
        return this.flushing;
    }
    /** How many logouts wait for the server. */
    async pendingLogouts() {
        await this.ready;
        return this.queue.length;
    }
    /** The current session (read again from storage), or null when signed out. */
    async getSession() {
        await this.ready;
        const s = await this.reload();
        return s && publicSession(s);
    }
    /** Whether a session is stored. It may still turn out revoked on the server. */
    async isSignedIn() {
        return (await this.getSession()) !== null;
    }
    /** Subscribes to an event; returns the function that unsubscribes. */
    on(type, listener) {
        const set = this.listeners[type];
        set.add(listener);
        return () => {
            set.delete(listener);
        };
    }
    /**
     * Stops the background retries of queued logouts (they stay in storage
     * and are sent by the next client created on it). The client can still
     * be used.
     */
    close() {
        this.closed = true;
        if (this.flushTimer !== null)
            clearTimeout(this.flushTimer);
        this.flushTimer = null;
        const target = globalThis;
        if (typeof target.removeEventListener === 'function')
            target.removeEventListener('online', this.onOnline);
    }
    // ---- requests ----------------------------------------------------------
    /** Sends init to url with the session's credentials; see {@link request}. */
    async authed(url, init, idempotent) {
        const replayable = !isStream(init.body);
        let session = await this.freshSession();
        let recovered = false;
        for (let attempt = 1;; attempt++) {
            let res;
            try {
                res = await this.fetchImpl(url, this.authedInit(init, session));
            }
            catch (err) {
                if (init.signal?.aborted)
                    throw err;
                if (!idempotent || !replayable || attempt >= this.retry.attempts)
                    throw networkError(err);
                await sleep(backoffDelay(attempt, this.retry), init.signal);
                continue;
            }
            if (isTransientStatus(res.status) && idempotent && replayable && attempt < this.retry.attempts) {
                discard(res);
                await sleep(backoffDelay(attempt, this.retry), init.signal);
                continue;
            }
            if (res.status !== 401 || recovered || !replayable)
                return res;
            const { error } = await readErrorBody(res);
            if (!REFRESHABLE.has(error))
                return res;
            discard(res);
            recovered = true;
            session = await this.recover(session);
        }
    }
    /** The request init with the session's credentials. */
    authedInit(init, session) {
        const headers = new Headers(init.headers);
        if (this.mode === 'bearer') {
            headers.set('Authorization', `Bearer ${session.accessToken}`);
            return { ...init, headers };
        }
        if (!SAFE_METHODS.has(init.method ?? 'GET')) {
            const csrf = this.csrfFor(session);
            if (csrf)
                headers.set(this.csrfHeader, csrf);
        }
        return { ...init, headers, credentials: 'include' };
    }
    /** A session whose access token is not about to expire, refreshed if need be. */
    async freshSession() {
        // The tokens of a refresh in flight replace the current ones, which the
        // rotation revokes: wait for them.
        if (this.refreshing)
            return this.refreshing;
        if (this.session && !this.isStale(this.session))
            return this.session;
        const stored = await this.reload(); // another tab may have logged in or refreshed
        if (!stored)
            throw notSignedIn();
        return this.isStale(stored) ? this.refreshOnce() : stored;
    }
    /** After a refreshable 401 of a request sent with `sent`: the session to retry with. */
    async recover(sent) {
        if (this.refreshing)
            return this.refreshing;
        const current = await this.reload();
        if (!current)
            throw notSignedIn();
        // Replaced since the request left (a refresh here or in another tab):
        // retry with the new tokens rather than refresh again.
        if (current.id !== sent.id)
            return current;
        return this.refreshOnce();
    }
    isStale(s) {
        const margin = Math.min(this.refreshMargin, (s.accessExpiresAt - s.issuedAt) / 4);
        return this.now() >= s.accessExpiresAt - margin;
    }
    // ---- refresh -----------------------------------------------------------
    /** The refresh in flight, or a new one: single flight. */
    refreshOnce() {
        if (!this.refreshing) {
            const run = this.sendRefresh();
            this.refreshing = run;
            const done = () => {
                if (this.refreshing === run)
                    this.refreshing = null;
            };
            run.then(done, done);
        }
        return this.refreshing;
    }
    async sendRefresh() {
        const epoch = this.epoch;
        const current = await this.reload();
        if (!current)
            throw notSignedIn();
        let lastError = notSignedIn();
        for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
            if (attempt > 1)
                await sleep(backoffDelay(attempt - 1, this.retry));
            if (this.epoch !== epoch)
                throw notSignedIn(); // logged out meanwhile
            let res;
            try {
                res = await this.fetchImpl(this.url(this.paths.refresh), this.refreshInit(current));
            }
            catch (err) {
                lastError = networkError(err);
                continue;
            }
            if (res.ok) {
                const next = await this.sessionFrom(res);
                const kept = await this.serial(async () => {
                    if (this.epoch !== epoch)
                        return false;
                    this.session = next;
                    await this.storage.setItem(this.sessionKey, JSON.stringify(next));
                    return true;
                });
                if (!kept)
                    throw notSignedIn();
                this.emit('refreshed', publicSession(next));
                return next;
            }
            const err = await errorFromResponse(res);
            if (res.status === 401) {
                // The refresh token is dead: reused, revoked, expired, invalid.
                const newer = await this.endSession(err.code, current);
                if (newer)
                    return newer;
                throw new JwtGuardError(err.code, err.message, { status: 401, signedOut: true });
            }
            if (!err.retryable)
                throw err; // 400, 403: retrying cannot help; tokens kept
            lastError = err;
        }
        throw lastError;
    }
    refreshInit(s) {
        if (this.mode === 'bearer') {
            return {
                method: 'POST',
                headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
                body: JSON.stringify({ refresh_token: s.refreshToken }),
            };
        }
        const headers = { Accept: 'application/json' };
        const csrf = this.csrfFor(s);
        if (csrf)
            headers[this.csrfHeader] = csrf;
        return { method: 'POST', headers, credentials: 'include' };
    }
    /**
     * Clears the session `expected` after the server ended it, and emits
     * signedOut. If storage meanwhile holds another session (another tab
     * logged in or refreshed), that one is kept and returned instead.
     */
    async endSession(reason, expected) {
        const newer = await this.serial(async () => {
            const stored = await this.readSession();
            if (stored && stored.id !== expected.id) {
                this.session = stored;
                return stored;
            }
            this.epoch++;
            this.session = null;
            await this.storage.removeItem(this.sessionKey);
            return null;
        });
        if (!newer)
            this.emit('signedOut', { reason });
        return newer;
    }
    // ---- logout ------------------------------------------------------------
    async logoutOthers() {
        const res = await this.authed(`${this.url(this.paths.logout)}?scope=others`, { method: 'POST' }, true);
        if (!res.ok)
            throw await errorFromResponse(res);
        discard(res);
        return { revoked: true, queued: false };
    }
    /**
     * Sends one revocation. `retry`: no answer, or a transient one. `refused`:
     * the server will never accept this token (invalid, already revoked or
     * expired for scope global), so there is nothing left to do.
     */
    async sendLogout(entry) {
        const url = this.url(this.paths.logout) + (entry.scope === 'local' ? '' : `?scope=${entry.scope}`);
        const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
        const timer = setTimeout(() => controller?.abort(), this.logoutTimeout);
        unref(timer);
        const init = entry.mode === 'bearer'
            ? {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ refresh_token: entry.refreshToken }),
            }
            : { method: 'POST', headers: { [this.csrfHeader]: entry.csrfToken ?? '' }, credentials: 'include' };
        try {
            const res = await this.fetchImpl(url, { ...init, signal: controller?.signal });
            discard(res);
            if (res.ok)
                return 'revoked';
            return isTransientStatus(res.status) ? 'retry' : 'refused';
        }
        catch {
            return 'retry';
        }
        finally {
            clearTimeout(timer);
        }
    }
    async flushQueue() {
        if (this.flushTimer !== null)
            clearTimeout(this.flushTimer);
        this.flushTimer = null;
        const settled = new Set();
        let failed = false;
        for (const entry of [...this.queue]) {
            if (this.now() >= entry.expiresAt) {
                settled.add(entry); // the token died by itself
                continue;
            }
            const outcome = await this.sendLogout(entry);
            if (outcome === 'retry')
                failed = true;
            else
                settled.add(entry);
        }
        const left = await this.serial(async () => {
            this.queue = this.queue.filter((e) => !settled.has(e));
            await this.saveQueue().catch(() => undefined);
            return this.queue.length;
        });
        this.flushFailures = failed ? this.flushFailures + 1 : 0;
        this.scheduleFlush();
        return left;
    }
    scheduleFlush(delay) {
        if (this.closed || this.flushTimer !== null || this.queue.length === 0)
            return;
        const wait = delay ?? backoffDelay(Math.max(1, this.flushFailures), this.logoutRetry);
        this.flushTimer = setTimeout(() => {
            this.flushTimer = null;
            void this.flushPendingLogouts();
        }, wait);
        unref(this.flushTimer);
    }
    async saveQueue() {
        if (this.queue.length === 0)
            await this.storage.removeItem(this.queueKey);
        else
            await this.storage.setItem(this.queueKey, JSON.stringify(this.queue));
    }
    // ---- storage and helpers ----------------------------------------------
    /** Runs fn after every storage operation queued before it. */
    serial(fn) {
        const run = this.chain.then(fn, fn);
        this.chain = run.catch(() => undefined);
        return run;
    }
    async readSession() {
        return parseSession(await this.storage.getItem(this.sessionKey), this.mode);
    }
    /** Reads the session again from storage, which another tab may have changed. */
    reload() {
        return this.serial(async () => {
            this.session = await this.readSession();
            return this.session;
        });
    }
    /** The session in a login or refresh answer. */
    async sessionFrom(res) {
        let body;
        try {
            body = (await res.json());
        }
        catch (err) {
            throw new JwtGuardError('bad_response', 'token response is not JSON', { status: res.status, cause: err });
        }
        const str = (k) => (typeof body?.[k] === 'string' && body[k] !== '' ? body[k] : undefined);
        const secs = (k) => (typeof body?.[k] === 'number' && body[k] > 0 ? body[k] : 0);
        const accessToken = str('access_token');
        const refreshToken = str('refresh_token');
        if (this.mode === 'bearer' && (!accessToken || !refreshToken)) {
            throw new JwtGuardError('bad_response', 'token response without access_token and refresh_token (a cookie-mode route?)', {
                status: res.status,
            });
        }
        const now = this.now();
        // Without expires_in, only the server's 401 token_expired tells.
        const expiresIn = secs('expires_in') || 365 * 24 * 3600;
        const refreshExpiresIn = secs('refresh_expires_in') || 365 * 24 * 3600;
        return {
            v: 1,
            id: randomId(),
            mode: this.mode,
            accessToken: this.mode === 'bearer' ? accessToken : undefined,
            refreshToken: this.mode === 'bearer' ? refreshToken : undefined,
            csrfToken: this.mode === 'cookie' ? str('csrf_token') ?? readCookie(this.csrfCookie) : undefined,
            issuedAt: now,
            accessExpiresAt: now + expiresIn * 1000,
            refreshExpiresAt: now + refreshExpiresIn * 1000,
        };
    }
    /** The CSRF token to send: the readable cookie, which matches the cookies the browser sends, else the stored one. */
    csrfFor(s) {
        return readCookie(this.csrfCookie) ?? s.csrfToken;
    }
    credentials() {
        return this.mode === 'cookie' ? 'include' : 'same-origin';
    }
    /** The absolute URL of a path under baseUrl; refuses absolute URLs of another origin. */
    url(input) {
        const s = String(input);
        if (!/^[a-z][a-z\d+.-]*:/i.test(s))
            return this.base + (s.startsWith('/') ? s : `/${s}`);
        const own = originOf(this.base) ?? originOf(globalThis.location?.origin ?? '');
        if (own === undefined || originOf(s) !== own) {
            throw new JwtGuardError('cross_origin', `refusing to send credentials outside ${own ?? 'baseUrl'}`);
        }
        return s;
    }
    emit(type, event) {
        for (const listener of [...this.listeners[type]]) {
            try {
                listener(event);
            }
            catch (err) {
                // A listener's bug must not break the client's flow: report it
                // the way an uncaught error in an event handler is reported.
                setTimeout(() => {
                    throw err;
                }, 0);
            }
        }
    }
}
function notSignedIn() {
    return new JwtGuardError('not_signed_in', 'not signed in');
}
function publicSession(s) {
    const out = {
        mode: s.mode,
        accessExpiresAt: s.accessExpiresAt,
        refreshExpiresAt: s.refreshExpiresAt,
    };
    if (s.accessToken !== undefined)
        out.accessToken = s.accessToken;
    if (s.refreshToken !== undefined)
        out.refreshToken = s.refreshToken;
    if (s.csrfToken !== undefined)
        out.csrfToken = s.csrfToken;
    return out;
}
function parseSession(raw, mode) {
    if (!raw)
        return null;
    try {
        const s = JSON.parse(raw);
        if (s?.v !== 1 ||
            s.mode !== mode ||
            typeof s.id !== 'string' ||
            typeof s.issuedAt !== 'number' ||
            typeof s.accessExpiresAt !== 'number' ||
            typeof s.refreshExpiresAt !== 'number' ||
            (mode === 'bearer' && (typeof s.accessToken !== 'string' || typeof s.refreshToken !== 'string'))) {
            return null;
        }
        return s;
    }
    catch {
        return null; // not ours, or corrupt: as good as signed out
    }
}
function parseQueue(raw, mode) {
    if (!raw)
        return [];
    try {
        const list = JSON.parse(raw);
        if (!Array.isArray(list))
            return [];
        return list.filter((e) => e !== null &&
            typeof e === 'object' &&
            e.mode === mode &&
            (e.scope === 'local' || e.scope === 'global') &&
            typeof e.expiresAt === 'number');
    }
    catch {
        return [];
    }
}
/** Wait before retry number `failures` (1 = the first retry), with jitter. */
function backoffDelay(failures, o) {
    const full = Math.min(o.maxDelay, o.baseDelay * 2 ** Math.max(0, failures - 1));
    return full / 2 + (Math.random() * full) / 2;
}
function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
        const abortError = () => signal?.reason ?? Object.assign(new Error('aborted'), { name: 'AbortError' });
        if (signal?.aborted) {
            reject(abortError());
            return;
        }
        const onAbort = () => {
            clearTimeout(timer);
            reject(abortError());
        };
        const timer = setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
        }, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
    });
}
/** Lets Node exit while a timer is pending; a no-op elsewhere. */
function unref(timer) {
    const t = timer;
    if (t && typeof t.unref === 'function')
        t.unref();
}
/** Frees the connection of an answer whose body nobody will read. */
function discard(res) {
    if (!res.bodyUsed)
        res.body?.cancel().catch(() => undefined);
}
function isStream(body) {
    return typeof ReadableStream === 'function' && body instanceof ReadableStream;
}
/** `scheme://host[:port]` of an absolute URL, lowercased; undefined for anything else. */
function originOf(url) {
    return /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i.exec(url)?.[0].toLowerCase();
}
/** The value of a cookie the page's scripts can read, in a browser; undefined elsewhere. */
function readCookie(name) {
    const doc = globalThis.document;
    if (!doc || typeof doc.cookie !== 'string')
        return undefined;
    for (const part of doc.cookie.split(';')) {
        const eq = part.indexOf('=');
        if (eq > 0 && part.slice(0, eq).trim() === name) {
            const value = part.slice(eq + 1).trim();
            try {
                return decodeURIComponent(value) || undefined;
            }
            catch {
                return value || undefined;
            }
        }
    }
    return undefined;
}
function randomId() {
    return `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;
}
