// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
/**
 * What every method of the client rejects with. `code` is the server's
 * error code (`{"error": "<code>"}`) or a {@link ClientErrorCode}.
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
            const { error, message } = body;
            return {
                error: typeof error === 'string' ? error : '',
                message: typeof message === 'string' ? message : '',
            };
        }
    }
    catch {
        // Not JSON: a proxy's error page, an empty body.
    }
    return { error: '', message: '' };
}
/** A JwtGuardError for an HTTP answer that is not a success. */
export async function errorFromResponse(res, signedOut = false) {
    const body = await readErrorBody(res);
    const code = body.error || (res.status >= 500 ? 'server_error' : 'bad_response');
    return new JwtGuardError(code, body.message || `HTTP ${res.status}`, {
        status: res.status,
        retryable: isTransientStatus(res.status),
        signedOut,
    });
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
