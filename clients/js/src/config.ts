import { DPoPSigner } from './dpop.js';
import { webCryptoKeyProvider, type DPoPKeyProvider } from './keys.js';
import { memoryStorage, type TokenStorage } from './storage.js';
import type { BackoffOptions, ClientOptions, DPoPOptions, FetchLike, Mode, Paths, RetryOptions } from './types.js';

/** {@link ClientOptions} checked and completed with their defaults. */
export interface Config {
  readonly mode: Mode;
  /** `baseUrl` without trailing slashes. */
  readonly base: string;
  readonly paths: Readonly<Paths>;
  readonly storage: TokenStorage;
  /** Storage key of the session. */
  readonly sessionKey: string;
  /** Storage key of the pending logouts. */
  readonly queueKey: string;
  readonly fetch: FetchLike;
  readonly refreshMargin: number;
  readonly retry: Required<RetryOptions>;
  readonly logoutRetry: Required<BackoffOptions>;
  readonly logoutTimeout: number;
  readonly refreshTimeout: number;
  readonly csrfHeader: string;
  readonly csrfCookie: string;
  readonly now: () => number;
  /** DPoP proofs; null when the `dpop` option is off. */
  readonly dpop: DPoPSigner | null;
}

/** Checks options and fills in the defaults; throws a TypeError for a missing or invalid option. */
export function resolveOptions(options: ClientOptions): Config {
  if (typeof options?.baseUrl !== 'string') throw new TypeError('createClient: baseUrl is required');
  const mode = options.mode ?? 'bearer';
  if (mode !== 'bearer' && mode !== 'cookie') {
    throw new TypeError(`createClient: mode must be 'bearer' or 'cookie', not ${String(mode)}`);
  }
  const paths = resolvePaths(options.paths);
  const prefix = options.storageKey ?? 'jwtguard';
  const globalFetch = globalThis.fetch;
  const fetch: FetchLike = options.fetch ?? ((input, init) => globalFetch(input, init));
  const now = options.now ?? Date.now;
  const keys = resolveDPoP(options.dpop, mode, options.storage === undefined);
  return {
    mode,
    base: options.baseUrl.replace(/\/+$/, ''),
    paths,
    storage: options.storage ?? memoryStorage(),
    sessionKey: `${prefix}.session`,
    queueKey: `${prefix}.pending_logout`,
    fetch,
    refreshMargin: options.refreshMargin ?? 10_000,
    retry: { attempts: 4, baseDelay: 200, maxDelay: 2_000, ...options.retry },
    logoutRetry: { baseDelay: 2_000, maxDelay: 300_000, ...options.logoutRetry },
    logoutTimeout: options.logoutTimeout ?? 10_000,
    refreshTimeout: options.refreshTimeout ?? 15_000,
    csrfHeader: options.csrfHeader ?? 'X-CSRF-Token',
    csrfCookie: options.csrfCookie ?? 'jwtguard_csrf',
    now,
    dpop: keys ? new DPoPSigner(keys, fetch, now) : null,
  };
}

/**
 * The key provider of the `dpop` option, or null when DPoP is off. DPoP
 * takes the bearer transport only; a given provider must have the four
 * methods of {@link DPoPKeyProvider}. The default keeps keys as long as the
 * sessions: in memory with the default memory storage, which a reload
 * empties, else in IndexedDB where there is one.
 */
function resolveDPoP(dpop: boolean | DPoPOptions | undefined, mode: Mode, inMemory: boolean): DPoPKeyProvider | null {
  if (dpop === undefined || dpop === false) return null;
  if (dpop !== true && (dpop === null || typeof dpop !== 'object')) {
    throw new TypeError(`createClient: dpop must be true, false or DPoPOptions, not ${String(dpop)}`);
  }
  if (mode !== 'bearer') {
    throw new TypeError("createClient: dpop needs mode 'bearer': cookie-mode tokens travel in cookies, which DPoP cannot bind");
  }
  const keys = dpop === true ? undefined : dpop.keys;
  if (keys === undefined) return webCryptoKeyProvider(inMemory ? { database: null } : {});
  for (const method of ['create', 'load', 'sign', 'delete'] as const) {
    if (typeof keys?.[method] !== 'function') {
      throw new TypeError(`createClient: dpop.keys must be a DPoPKeyProvider: its ${method} is not a function`);
    }
  }
  return keys;
}

/**
 * The auth routes: login, refresh and logout must be given, as non-empty
 * strings; stepUp is optional, and a non-empty string when given.
 */
function resolvePaths(paths: Paths | undefined): Readonly<Paths> {
  const out: Partial<Paths> = { login: paths?.login, refresh: paths?.refresh, logout: paths?.logout };
  for (const [name, value] of Object.entries(out)) {
    if (typeof value !== 'string' || value === '') {
      throw new TypeError(`createClient: paths.${name} is required: the path of the server's ${name} route`);
    }
  }
  if (paths?.stepUp !== undefined) {
    if (typeof paths.stepUp !== 'string' || paths.stepUp === '') {
      throw new TypeError("createClient: paths.stepUp must be the path of the server's step-up route");
    }
    out.stepUp = paths.stepUp;
  }
  return Object.freeze(out as Paths);
}
