// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
import { JwtGuardError, errorFromResponse, notSignedIn } from './errors.js';
import { resolveUrl } from './http.js';
import { steppedUpSession } from './session.js';
/**
 * Step-up authentication (RFC 9470): POSTs `credentials` as JSON to
 * `paths.stepUp` with the session's credentials (the access token, or the
 * cookies and the CSRF header), and stores the raised access token of the
 * answer in place of the current one. The refresh token is kept: the
 * server raises the access token only, so a later refresh returns tokens at
 * the login's level.
 *
 * Rejects with a TypeError when `paths.stepUp` is not configured, with
 * `session_changed` when the session was replaced while the step-up was in
 * flight (a refresh in another tab: nothing is stored), and otherwise as
 * {@link Authorizer.send} or with the server's error (`invalid_credentials`,
 * a `RateLimitedError`, …), the tokens kept.
 */
export async function stepUp(cfg, state, authorizer, credentials, options) {
    const path = cfg.paths.stepUp;
    if (path === undefined) {
        throw new TypeError("stepUp: paths.stepUp is not configured: give createClient the path of the server's step-up route");
    }
    const epoch = state.epoch;
    const headers = new Headers(options.headers);
    if (!headers.has('Content-Type'))
        headers.set('Content-Type', 'application/json');
    headers.set('Accept', 'application/json');
    // Not idempotent: a step-up without an answer is not sent again (each
    // attempt counts against the login limits).
    const { res, session: sent } = await authorizer.sendWith(resolveUrl(cfg.base, path), { method: 'POST', headers, body: JSON.stringify(credentials), signal: options.signal }, false);
    if (!res.ok)
        throw await errorFromResponse(res, cfg.now);
    const next = await steppedUpSession(res, sent, cfg);
    const outcome = await state.serial(async () => {
        const stored = await state.read().catch(() => state.session);
        if (state.epoch !== epoch || !stored)
            return 'signed_out';
        // A refresh (here or in another tab) replaced the session: its new
        // access token must not be overwritten by one of an older generation.
        if (stored.id !== sent.id)
            return 'changed';
        await state.write(next);
        return 'stored';
    });
    if (outcome === 'signed_out')
        throw notSignedIn();
    if (outcome === 'changed') {
        throw new JwtGuardError('session_changed', 'the session was refreshed while stepping up; step up again', { retryable: true });
    }
    return next;
}
