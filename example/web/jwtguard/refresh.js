// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
import { JwtGuardError, errorFromResponse, networkError, notSignedIn } from './errors.js';
import { resolveUrl } from './http.js';
import { csrfFor, publicSession, sessionFromResponse } from './session.js';
import { backoffDelay, sleep } from './timing.js';
/**
 * Refreshes the session, one refresh at a time: whoever needs a refresh
 * while one is in flight gets that one's result.
 */
export class Refresher {
    constructor(cfg, state, events) {
        this.cfg = cfg;
        this.state = state;
        this.events = events;
        this.running = null;
    }
    /** The refresh in flight, or null. */
    get inFlight() {
        return this.running;
    }
    /** The refresh in flight, or a new one. */
    once() {
        if (!this.running) {
            const run = this.send();
            this.running = run;
            const done = () => {
                if (this.running === run)
                    this.running = null;
            };
            run.then(done, done);
        }
        return this.running;
    }
    /**
     * One refresh, retried after network errors and transient answers. Any
     * 401 ends the session (unless storage meanwhile holds a newer one, which
     * is returned); 400 and 403 reject and keep the tokens.
     */
    async send() {
        const { cfg, state } = this;
        const epoch = state.epoch;
        const current = await state.reload();
        if (!current)
            throw notSignedIn();
        let lastError = notSignedIn();
        for (let attempt = 1; attempt <= cfg.retry.attempts; attempt++) {
            if (attempt > 1)
                await sleep(backoffDelay(attempt - 1, cfg.retry));
            if (state.epoch !== epoch)
                throw notSignedIn(); // logged out meanwhile
            let res;
            try {
                res = await cfg.fetch(resolveUrl(cfg.base, cfg.paths.refresh), this.init(current));
            }
            catch (err) {
                lastError = networkError(err);
                continue;
            }
            if (res.ok) {
                const next = await sessionFromResponse(res, cfg);
                const kept = await state.serial(async () => {
                    if (state.epoch !== epoch)
                        return false;
                    await state.write(next);
                    return true;
                });
                if (!kept)
                    throw notSignedIn();
                this.events.emit('refreshed', publicSession(next));
                return next;
            }
            const err = await errorFromResponse(res);
            if (res.status === 401) {
                // The refresh token is dead: reused, revoked, expired, invalid.
                const newer = await state.endSession(current);
                if (newer)
                    return newer;
                this.events.emit('signedOut', { reason: err.code });
                throw new JwtGuardError(err.code, err.message, { status: 401, signedOut: true });
            }
            if (!err.retryable)
                throw err; // 400, 403: retrying cannot help; tokens kept
            lastError = err;
        }
        throw lastError;
    }
    /** The refresh request for session s. */
    init(s) {
        if (this.cfg.mode === 'bearer') {
            return {
                method: 'POST',
                headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
                body: JSON.stringify({ refresh_token: s.refreshToken }),
            };
        }
        const headers = { Accept: 'application/json' };
        const csrf = csrfFor(s, this.cfg);
        if (csrf)
            headers[this.cfg.csrfHeader] = csrf;
        return { method: 'POST', headers, credentials: 'include' };
    }
}
