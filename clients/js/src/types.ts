import type { DPoPKeyProvider } from './keys.js';
import type { TokenStorage } from './storage.js';

/**
 * How tokens travel. `bearer`: the client holds both tokens (in its
 * storage) and sends `Authorization: Bearer`; for React Native and scripts.
 * `cookie`: the server keeps them in HttpOnly cookies the page's scripts
 * cannot read, and the client sends the CSRF token on unsafe requests; for
 * browsers.
 */
export type Mode = 'bearer' | 'cookie';

/**
 * `local`: end this session. `others`: end every other session of the user
 * ("log out other devices"; this one stays signed in). `global`: end every
 * session of the user, this one included.
 */
export type LogoutScope = 'local' | 'others' | 'global';

/** The part of `fetch` the client uses; pass a wrapper to add logging, metrics or tests. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * Paths of the auth routes, relative to `baseUrl`: wherever the server
 * mounts its login, refresh, logout and step-up handlers for the chosen
 * mode.
 */
export interface Paths {
  /** The login route, such as `/auth/login`. */
  login: string;
  /** The refresh route, such as `/auth/refresh`. */
  refresh: string;
  /** The logout route, such as `/auth/logout`. */
  logout: string;
  /**
   * The step-up route (RFC 9470), such as `/auth/step-up`: where `stepUp`
   * sends the user's credentials for a fresh authentication. Optional;
   * without it `stepUp` rejects with a TypeError.
   */
  stepUp?: string;
}

/** Exponential backoff with jitter: the n-th wait is about `baseDelay * 2^(n-1)`, at most `maxDelay`. */
export interface BackoffOptions {
  /** Milliseconds before the first retry. */
  baseDelay?: number;
  /** Upper bound of one wait, in milliseconds. */
  maxDelay?: number;
}

/** Retries of one call: how many attempts in all, and the waits between them. */
export interface RetryOptions extends BackoffOptions {
  /** Attempts in all, the first one included. */
  attempts?: number;
}

/** Options of DPoP (RFC 9449), the `dpop` option of `createClient`. */
export interface DPoPOptions {
  /**
   * Where the private keys live and sign. Default `webCryptoKeyProvider()`:
   * non-extractable ES256 WebCrypto keys, kept in IndexedDB in browsers and
   * in memory elsewhere. On React Native, a provider over the platform's
   * keystore (see the README).
   */
  keys?: DPoPKeyProvider;
}

/** Options of `createClient`. `baseUrl` and `paths` are required. */
export interface ClientOptions {
  /**
   * Origin (and optional path prefix) of the API, such as
   * `https://api.example.com`. `''` in a browser means the page's origin.
   * Tokens are only ever sent to this origin.
   */
  baseUrl: string;
  /** The server's auth routes for this mode, relative to `baseUrl`. */
  paths: Paths;
  /** Default `'bearer'`. */
  mode?: Mode;
  /** Where the session is kept. Default `memoryStorage()`: gone when the page or app closes. */
  storage?: TokenStorage;
  /** Prefix of the storage keys. Default `'jwtguard'`. */
  storageKey?: string;
  /** Default the global `fetch`. */
  fetch?: FetchLike;
  /**
   * Refresh this long before the access token expires, in milliseconds, so
   * that a request does not leave with a token about to die. At most a
   * quarter of the token's lifetime is used. Default 10 000.
   */
  refreshMargin?: number;
  /**
   * Retries of refreshes, and of idempotent requests, after a network error
   * or a 429/502/503/504 (such as 503 store_unavailable). Tokens are never
   * dropped for those. Default 4 attempts, waits from 200 ms to 2 s, which
   * keeps the retries of one refresh inside the server's refresh grace
   * window (5 s by default). A refresh whose answer was lost is retried at
   * once only within 4 s of the first loss; later, one attempt per call (see
   * the README's "What happens when…").
   */
  retry?: RetryOptions;
  /**
   * Backoff of the background retries of logouts that could not reach the
   * server. Default 2 s doubling up to 5 min; a queued logout is retried
   * until it succeeds or its refresh token has expired anyway.
   */
  logoutRetry?: BackoffOptions;
  /** A logout call that takes longer is abandoned and queued, in milliseconds. Default 10 000. */
  logoutTimeout?: number;
  /**
   * A refresh call without an answer after this long, in milliseconds, is
   * abandoned and handled like a lost answer: the tokens are kept and the
   * refresh is sent again with the same refresh token. Default 15 000.
   */
  refreshTimeout?: number;
  /** Header that carries the CSRF token in cookie mode. Default `'X-CSRF-Token'`. */
  csrfHeader?: string;
  /** Readable cookie that holds the CSRF token in cookie mode. Default `'jwtguard_csrf'`. */
  csrfCookie?: string;
  /** Clock, in milliseconds since the epoch; for tests. Default `Date.now`. */
  now?: () => number;
  /**
   * DPoP (RFC 9449), bearer mode only: each login makes a new key pair and
   * binds the session to it, and every login, refresh, logout and request
   * carries a proof signed with that key (`Authorization: DPoP`), so that
   * stolen tokens are useless without the key. `true` for the defaults, or
   * {@link DPoPOptions}. Default off. A TypeError with `mode: 'cookie'`.
   */
  dpop?: boolean | DPoPOptions;
}

/** The current session, as `getSession` shows it. */
export interface Session {
  /** The transport of this session. */
  readonly mode: Mode;
  /** Bearer mode only. */
  readonly accessToken?: string;
  /** Bearer mode only. */
  readonly refreshToken?: string;
  /** Cookie mode only: the value sent in the CSRF header. */
  readonly csrfToken?: string;
  /** When the access token expires, in ms since the epoch, by this device's clock. */
  readonly accessExpiresAt: number;
  /** When the refresh token expires if unused, in ms since the epoch, by this device's clock. */
  readonly refreshExpiresAt: number;
  /**
   * DPoP only: the RFC 7638 thumbprint of the session's key, which the
   * tokens carry as `cnf.jkt`. Undefined for a session the server did not
   * bind (it answered `token_type` Bearer: DPoP is off there).
   */
  readonly dpopThumbprint?: string;
}

/** What `logout` achieved on the server. */
export interface LogoutResult {
  /** The server confirmed the revocation (204). */
  revoked: boolean;
  /**
   * The server could not be reached or was unavailable: the revocation is
   * queued (in storage) and retried in the background. Local tokens are gone
   * either way. Both false: there was nothing left to revoke (no session, or
   * the server refused a token that is no longer valid).
   */
  queued: boolean;
}

/** Payload of the `signedOut` event. */
export interface SignedOutEvent {
  /**
   * `'logout'` when the app called `logout`; otherwise the server's code
   * that ended the session: `refresh_reused`, `token_revoked`,
   * `session_expired`, `token_expired` (the refresh token itself expired),
   * `token_invalid`, …
   */
  reason: string;
}

/**
 * Payload of the `stepUpRequired` event: a route answered `401
 * insufficient_user_authentication` (RFC 9470). The session is kept; have
 * the user authenticate again (`stepUp`) and retry.
 */
export interface StepUpRequiredEvent {
  /** The URL of the refused request. */
  url: string;
  /** Its method. */
  method: string;
  /** The server's description (`error_description`). */
  message: string;
  /** The longest time since the user's last authentication the route accepts, in seconds (`max_age`). */
  maxAge?: number;
  /** Authentication context classes the route accepts (`acr_values`), such as `['mfa']`. */
  acrValues?: string[];
}

/** Events of the client's `on`, by name, with their payloads. */
export interface ClientEvents {
  /** A login succeeded. */
  signedIn: Session;
  /** A refresh stored a new session. */
  refreshed: Session;
  /** The session ended: logged out here, or ended by the server. */
  signedOut: SignedOutEvent;
  /** A route asked for a fresher or stronger authentication; the session is kept. */
  stepUpRequired: StepUpRequiredEvent;
  /** A step-up stored a new access token; the refresh token is the same. */
  steppedUp: Session;
}

/** Options of `login`. */
export interface LoginOptions {
  /** Extra headers of the login request. */
  headers?: HeadersInit;
  /** Aborts the login request. */
  signal?: AbortSignal;
}

/** Options of `stepUp`: those of `login`. */
export type StepUpOptions = LoginOptions;
