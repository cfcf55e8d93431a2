// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
import { STEP_UP_REQUIRED, parseRetryAfter, stepUpChallenge } from './headers.js';
/**
 * What every method of the client rejects with. `code` is the server's
 * specific error code (see {@link ErrorBody}) or a {@link ClientErrorCode};
 * `message` is the server's `error_description`.
 */
export class JwtGuardError extends Error {
    constructor(code, message, init = {}) {
        super(message);
        this.name = 'JwtGuardError';
        this.code = code;
        this.status = init.status ?? 0;
        this.retryable = init.retryable ?? false;
        this.signedOut = init.signedOut ?? false;
        this.cause = init.cause;
    }
}
/**
 * Reads the error body of res without consuming res (it reads a clone).
 * Answers without such a body give empty strings.
 */
export async function readErrorBody(res) {
    try {
        const body = await res.clone().json();
        if (body !== null && typeof body === 'object') {
            const fields = body;
            const text = (name) => (typeof fields[name] === 'string' ? fields[name] : '');
            const error = text('error');
            return { error, description: text('error_description'), code: text('reason') || error };
        }
    }
    catch {
        // Not JSON: a proxy's error page, an empty body.
    }
    return { error: '', description: '', code: '' };
}
/**
 * Whether an answer of the refresh route says the refresh token is dead —
 * reused, revoked, expired, invalid, or its session ended — so the session
 * is over: `400 invalid_grant` (RFC 6749 §5.2), or any 401 (as servers
 * answered before they took the OAuth shape) but a DPoP one. Other 400s
 * (`invalid_request`, `unsupported_grant_type`, `use_dpop_nonce`,
 * `invalid_dpop_proof`), 403, 429 and 5xx leave the tokens alone.
 */
export function isGrantRefused(status, body) {
    // A refused DPoP proof is about the proof, never the grant.
    if (body.code === 'use_dpop_nonce' || body.code === 'invalid_dpop_proof')
        return false;
    return (status === 400 && body.error === 'invalid_grant') || status === 401;
}
/**
 * A JwtGuardError for an HTTP answer that is not a success: a
 * {@link StepUpRequiredError} for a 401 `insufficient_user_authentication`,
 * a {@link RateLimitedError} for a 429, else a plain one. `now` is the clock
 * an HTTP-date `Retry-After` is measured on.
 */
export async function errorFromResponse(res, now = Date.now) {
    const body = await readErrorBody(res);
    const code = body.code || (res.status >= 500 ? 'server_error' : 'bad_response');
    const message = body.description || `HTTP ${res.status}`;
    const init = { status: res.status, retryable: isTransientStatus(res.status) };
    if (isStepUpAnswer(res, body.code)) {
        const challenge = stepUpChallenge(res.headers.get('WWW-Authenticate'));
        return new StepUpRequiredError(body.description || challenge?.description || message, {
            ...init,
            maxAge: challenge?.maxAge,
            acrValues: challenge?.acrValues,
        });
    }
    if (res.status === 429) {
        return new RateLimitedError(body.code || 'too_many_requests', message, {
            ...init,
            retryAfter: parseRetryAfter(res.headers.get('Retry-After'), now()),
        });
    }
    return new JwtGuardError(code, message, init);
}
/**
 * Whether res, whose error body has code `error`, is a step-up challenge
 * (RFC 9470): a 401 whose code is `insufficient_user_authentication`, or
 * without a code but with that challenge in `WWW-Authenticate`.
 */
export function isStepUpAnswer(res, error) {
    if (res.status !== 401)
        return false;
    if (error !== '')
        return error === STEP_UP_REQUIRED;
    return stepUpChallenge(res.headers.get('WWW-Authenticate')) !== undefined;
}
/**
 * A route refused the access token because the user's authentication is
 * too old or too weak for it (RFC 9470): `401
 * insufficient_user_authentication`. Not a sign-out: the tokens are kept.
 * Have the user authenticate again with `stepUp`, then retry. `maxAge` and
 * `acrValues` come from the `WWW-Authenticate` challenge; both are
 * undefined when it was absent or unreadable (for a cross-origin API, the
 * server must list `WWW-Authenticate` in `Access-Control-Expose-Headers`).
 */
export class StepUpRequiredError extends JwtGuardError {
    constructor(message, init = {}) {
        super(STEP_UP_REQUIRED, message, { status: 401, ...init });
        this.name = 'StepUpRequiredError';
        this.maxAge = init.maxAge;
        this.acrValues = init.acrValues;
    }
}
/**
 * The server refused the request for now: `429 too_many_requests` (a login,
 * refresh, step-up or route limit). Never a sign-out: the tokens are kept,
 * and the error is `retryable`. `retryAfter` is the server's `Retry-After`,
 * in seconds; undefined when it sent none (or, for a cross-origin API, did
 * not expose it).
 */
export class RateLimitedError extends JwtGuardError {
    constructor(code, message, init = {}) {
        super(code, message, { status: 429, retryable: true, ...init });
        this.name = 'RateLimitedError';
        this.retryAfter = init.retryAfter;
    }
}
/** A JwtGuardError for a request that got no HTTP answer. */
export function networkError(cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new JwtGuardError('network_error', `network error: ${detail}`, { retryable: true, cause });
}
/**
 * Statuses worth trying again: the store is down (503 store_unavailable),
 * a proxy or the server is in trouble, or the client is asked to slow down.
 */
export function isTransientStatus(status) {
    return status === 429 || status >= 500;
}
/** The JwtGuardError of a call that needs a session when there is none. */
export function notSignedIn() {
    return new JwtGuardError('not_signed_in', 'not signed in');
}
