import type { Config } from './config.js';
import { JwtGuardError, networkError } from './errors.js';
import { readCookie } from './http.js';
import type { Mode, Session } from './types.js';

/** A session as kept in storage. `id` changes with every login and refresh. */
export interface StoredSession extends Session {
  v: 1;
  id: string;
  issuedAt: number;
}

/** The public view of a stored session. */
export function publicSession(s: StoredSession): Session {
  const out: { -readonly [K in keyof Session]: Session[K] } = {
    mode: s.mode,
    accessExpiresAt: s.accessExpiresAt,
    refreshExpiresAt: s.refreshExpiresAt,
  };
  if (s.accessToken !== undefined) out.accessToken = s.accessToken;
  if (s.refreshToken !== undefined) out.refreshToken = s.refreshToken;
  if (s.csrfToken !== undefined) out.csrfToken = s.csrfToken;
  return out;
}

/** The session stored as raw for mode, or null when raw is missing, corrupt or of another mode. */
export function parseSession(raw: string | null | undefined, mode: Mode): StoredSession | null {
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Partial<StoredSession> | null;
    if (
      s?.v !== 1 ||
      s.mode !== mode ||
      typeof s.id !== 'string' ||
      typeof s.issuedAt !== 'number' ||
      typeof s.accessExpiresAt !== 'number' ||
      typeof s.refreshExpiresAt !== 'number' ||
      (mode === 'bearer' && (typeof s.accessToken !== 'string' || typeof s.refreshToken !== 'string'))
    ) {
      return null;
    }
    return s as StoredSession;
  } catch {
    return null; // not ours, or corrupt: as good as signed out
  }
}

/**
 * The session in a login or refresh answer. Expiry times are the server's
 * `expires_in` and `refresh_expires_in` measured on this device's clock.
 * Rejects with `network_error` when the body cannot be read to its end (the
 * answer was lost on the way) and `bad_response` when it is not the contract.
 */
export async function sessionFromResponse(res: Response, cfg: Config): Promise<StoredSession> {
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    // The connection died while the body came: as good as no answer.
    throw networkError(err);
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new JwtGuardError('bad_response', 'token response is not JSON', { status: res.status, cause: err });
  }
  const str = (k: string): string | undefined => (typeof body?.[k] === 'string' && body[k] !== '' ? (body[k] as string) : undefined);
  const secs = (k: string): number => (typeof body?.[k] === 'number' && (body[k] as number) > 0 ? (body[k] as number) : 0);
  const accessToken = str('access_token');
  const refreshToken = str('refresh_token');
  if (cfg.mode === 'bearer' && (!accessToken || !refreshToken)) {
    throw new JwtGuardError('bad_response', 'token response without access_token and refresh_token (a cookie-mode route?)', {
      status: res.status,
    });
  }
  const now = cfg.now();
  // Without expires_in, only the server's 401 token_expired tells.
  const expiresIn = secs('expires_in') || 365 * 24 * 3600;
  const refreshExpiresIn = secs('refresh_expires_in') || 365 * 24 * 3600;
  return {
    v: 1,
    id: randomId(),
    mode: cfg.mode,
    accessToken: cfg.mode === 'bearer' ? accessToken : undefined,
    refreshToken: cfg.mode === 'bearer' ? refreshToken : undefined,
    csrfToken: cfg.mode === 'cookie' ? str('csrf_token') ?? readCookie(cfg.csrfCookie) : undefined,
    issuedAt: now,
    accessExpiresAt: now + expiresIn * 1000,
    refreshExpiresAt: now + refreshExpiresIn * 1000,
  };
}

/** Whether the access token of s is expired or within the refresh margin (at most a quarter of its lifetime). */
export function isStale(s: StoredSession, cfg: Config): boolean {
  const margin = Math.min(cfg.refreshMargin, (s.accessExpiresAt - s.issuedAt) / 4);
  return cfg.now() >= s.accessExpiresAt - margin;
}

/** The CSRF token to send: the readable cookie, which matches the cookies the browser sends, else the stored one. */
export function csrfFor(s: StoredSession, cfg: Config): string | undefined {
  return readCookie(cfg.csrfCookie) ?? s.csrfToken;
}

function randomId(): string {
  return `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;
}
