// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
import { resolveOptions } from './config.js';
import { JwtGuardError, errorFromResponse, networkError } from './errors.js';
import { Emitter } from './events.js';
import { IDEMPOTENT_METHODS, discard, readCookie, resolveUrl } from './http.js';
import { LogoutQueue } from './logout.js';
import { Refresher } from './refresh.js';
import { Authorizer } from './request.js';
import { isStale, publicSession, sessionFromResponse } from './session.js';
import { SessionState } from './state.js';
import { stepUp } from './stepup.js';
/**
 * Creates a client of a jwtguard server. `baseUrl` and `paths` (the
 * server's login, refresh and logout routes) are required; see
 * {@link ClientOptions}. Throws a TypeError for a missing or invalid option.
 */
export function createClient(options) {
    return new Client(resolveOptions(options));
}
class Client {
    constructor(cfg) {
        this.cfg = cfg;
        this.events = new Emitter();
        this.onOnline = () => {
            if (this.logouts.size > 0)
                void this.flushPendingLogouts();
        };
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
        const target = globalThis;
        if (typeof target.addEventListener === 'function')
            target.addEventListener('online', this.onOnline);
    }
    async login(credentials, options = {}) {
        await this.ready;
        if (this.state.session ?? (await this.state.reload()))
            await this.logout('local');
        const headers = new Headers(options.headers);
        if (!headers.has('Content-Type'))
            headers.set('Content-Type', 'application/json');
        headers.set('Accept', 'application/json');
        // DPoP: a new key for every login, made before the request that binds it.
        const { dpop } = this.cfg;
        const key = dpop ? await dpop.createKey() : undefined;
        let next;
        try {
            let res;
            try {
                res = await (dpop && key ? dpop.fetch(key.id) : this.cfg.fetch)(resolveUrl(this.cfg.base, this.cfg.paths.login), {
                    method: 'POST',
                    headers,
                    body: JSON.stringify(credentials),
                    credentials: this.mode === 'cookie' ? 'include' : 'same-origin',
                    signal: options.signal,
                });
            }
            catch (err) {
                if (options.signal?.aborted || err instanceof JwtGuardError)
                    throw err;
                throw networkError(err);
            }
            if (!res.ok)
                throw await errorFromResponse(res, this.cfg.now);
            next = await sessionFromResponse(res, this.cfg, key && { key: key.id, thumbprint: key.thumbprint });
        }
        catch (err) {
            dpop?.deleteKey(key?.id);
            throw err;
        }
        // token_type Bearer: the server did not bind (DPoP is off there).
        if (key && next.dpopKey === undefined)
            dpop?.deleteKey(key.id);
        await this.state.serial(async () => {
            // Another login that finished meanwhile (here or in another tab) is
            // replaced: nothing will use its DPoP key any more.
            const replaced = await this.state.read().catch(() => null);
            if (replaced?.dpopKey !== undefined && replaced.dpopKey !== next.dpopKey)
                dpop?.deleteKey(replaced.dpopKey);
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
    async stepUp(credentials, options = {}) {
        await this.ready;
        const session = publicSession(await stepUp(this.cfg, this.state, this.authorizer, credentials, options));
        this.events.emit('steppedUp', session);
        return session;
    }
    async request(input, init = {}) {
        await this.ready;
        const url = resolveUrl(this.cfg.base, input);
        const method = (init.method ?? 'GET').toUpperCase();
        return this.authorizer.send(url, { ...init, method }, IDEMPOTENT_METHODS.has(method));
    }
    async refresh() {
        await this.ready;
        return publicSession(await this.refresher.once());
    }
    async logout(scope = 'local') {
        await this.ready;
        if (scope === 'others')
            return this.logoutOthers();
        if (scope !== 'local' && scope !== 'global') {
            throw new TypeError(`logout: scope must be 'local', 'others' or 'global', not ${String(scope)}`);
        }
        const { cfg, state } = this;
        // A refresh in flight is about to replace the tokens: revoke with the
        // newest ones (scope global needs a token that passes every check).
        const inFlight = this.refresher.inFlight;
        if (inFlight)
            await inFlight.catch(() => undefined);
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
        if (ended)
            this.events.emit('signedOut', { reason: 'logout' });
        const entry = {
            mode: this.mode,
            scope,
            refreshToken: ended?.refreshToken,
            csrfToken: ended?.csrfToken ?? (this.mode === 'cookie' ? readCookie(cfg.csrfCookie) : undefined),
            expiresAt: ended?.refreshExpiresAt ?? cfg.now() + 24 * 3600000,
        };
        // The revocation of a DPoP-bound session needs a proof of its key: the
        // queue deletes the key once the revocation is settled.
        if (ended?.dpopKey !== undefined)
            entry.dpopKey = ended.dpopKey;
        // Cookie mode without a local session may still have cookies from an
        // earlier page load: the readable CSRF cookie tells.
        if (this.mode === 'bearer' ? !entry.refreshToken : !entry.csrfToken)
            return { revoked: false, queued: false };
        return this.logouts.submit(entry);
    }
    async flushPendingLogouts() {
        await this.ready;
        return this.logouts.flush();
    }
    async pendingLogouts() {
        await this.ready;
        return this.logouts.size;
    }
    async getSession() {
        await this.ready;
        const s = await this.state.reload();
        return s && publicSession(s);
    }
    async isSignedIn() {
        return (await this.getSession()) !== null;
    }
    on(type, listener) {
        return this.events.on(type, listener);
    }
    close() {
        this.logouts.close();
        const target = globalThis;
        if (typeof target.removeEventListener === 'function')
            target.removeEventListener('online', this.onOnline);
    }
    /** Ends the user's other sessions; this one must be valid and stays. */
    async logoutOthers() {
        const url = `${resolveUrl(this.cfg.base, this.cfg.paths.logout)}?scope=others`;
        const res = await this.authorizer.send(url, { method: 'POST' }, true);
        if (!res.ok)
            throw await errorFromResponse(res, this.cfg.now);
        discard(res);
        return { revoked: true, queued: false };
    }
}
