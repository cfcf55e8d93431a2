// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
import { JwtGuardError, networkError } from './errors.js';
import { readCookie } from './http.js';
/** The public view of a stored session. */
export function publicSession(s) {
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
    if (s.dpopThumbprint !== undefined)
        out.dpopThumbprint = s.dpopThumbprint;
    return out;
}
/** The session stored as raw for mode, or null when raw is missing, corrupt or of another mode. */
export function parseSession(raw, mode) {
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
/**
 * The session in a login or refresh answer. Expiry times are the server's
 * `expires_in` and `refresh_expires_in` measured on this device's clock.
 * Rejects with `network_error` when the body cannot be read to its end (the
 * answer was lost on the way) and `bad_response` when it is not the contract.
 * With binding (the request carried a DPoP proof of that key), the session is
 * bound to it when the answer's `token_type` is `DPoP`; a `Bearer` answer
 * (DPoP off on the server) gives an unbound session.
 */
export async function sessionFromResponse(res, cfg, binding) {
    const body = await readTokenBody(res);
    const accessToken = body.str('access_token');
    const refreshToken = body.str('refresh_token');
    if (cfg.mode === 'bearer' && (!accessToken || !refreshToken)) {
        throw new JwtGuardError('bad_response', 'token response without access_token and refresh_token (a cookie-mode route?)', {
            status: res.status,
        });
    }
    const now = cfg.now();
    // Without expires_in, only the server's 401 token_expired tells.
    const expiresIn = body.secs('expires_in') || 365 * 24 * 3600;
    const refreshExpiresIn = body.secs('refresh_expires_in') || 365 * 24 * 3600;
    const bound = binding !== undefined && body.str('token_type')?.toLowerCase() === 'dpop';
    return {
        ...(bound ? { dpopKey: binding.key, dpopThumbprint: binding.thumbprint } : {}),
        v: 1,
        id: randomId(),
        mode: cfg.mode,
        accessToken: cfg.mode === 'bearer' ? accessToken : undefined,
        refreshToken: cfg.mode === 'bearer' ? refreshToken : undefined,
        csrfToken: cfg.mode === 'cookie' ? body.str('csrf_token') ?? readCookie(cfg.csrfCookie) : undefined,
        issuedAt: now,
        accessExpiresAt: now + expiresIn * 1000,
        refreshExpiresAt: now + refreshExpiresIn * 1000,
    };
}
/**
 * Session `sent` after the step-up answer res: the answer's access token
 * (bearer mode; in cookie mode the server replaced the access cookie) and
 * `expires_in` replace the current ones, the CSRF token is the answer's if
 * it has one; the refresh token and its expiry are kept. A new `id` marks
 * the change. Rejects like {@link sessionFromResponse}.
 */
export async function steppedUpSession(res, sent, cfg) {
    const body = await readTokenBody(res);
    const accessToken = body.str('access_token');
    if (cfg.mode === 'bearer' && !accessToken) {
        throw new JwtGuardError('bad_response', 'step-up response without access_token (a cookie-mode route?)', { status: res.status });
    }
    const now = cfg.now();
    const expiresIn = body.secs('expires_in') || 365 * 24 * 3600;
    return {
        ...sent,
        id: randomId(),
        accessToken: cfg.mode === 'bearer' ? accessToken : undefined,
        csrfToken: cfg.mode === 'cookie' ? body.str('csrf_token') ?? readCookie(cfg.csrfCookie) ?? sent.csrfToken : undefined,
        issuedAt: now,
        accessExpiresAt: now + expiresIn * 1000,
    };
}
/** Reads the JSON body of a token answer; rejects with `network_error` for a body cut short, `bad_response` for one that is not JSON. */
async function readTokenBody(res) {
    let text;
    try {
        text = await res.text();
    }
    catch (err) {
        // The connection died while the body came: as good as no answer.
        throw networkError(err);
    }
    let body;
    try {
        body = JSON.parse(text);
    }
    catch (err) {
        throw new JwtGuardError('bad_response', 'token response is not JSON', { status: res.status, cause: err });
    }
    return {
        str: (k) => (typeof body?.[k] === 'string' && body[k] !== '' ? body[k] : undefined),
        secs: (k) => (typeof body?.[k] === 'number' && body[k] > 0 ? body[k] : 0),
    };
}
/** Whether the access token of s is expired or within the refresh margin (at most a quarter of its lifetime). */
export function isStale(s, cfg) {
    const margin = Math.min(cfg.refreshMargin, (s.accessExpiresAt - s.issuedAt) / 4);
    return cfg.now() >= s.accessExpiresAt - margin;
}
/** The CSRF token to send: the readable cookie, which matches the cookies the browser sends, else the stored one. */
export function csrfFor(s, cfg) {
    return readCookie(cfg.csrfCookie) ?? s.csrfToken;
}
function randomId() {
    return `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;
}
