import { memoryStorage, type TokenStorage } from './storage.js';
import type { BackoffOptions, ClientOptions, FetchLike, Mode, Paths, RetryOptions } from './types.js';

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
  return {
    mode,
    base: options.baseUrl.replace(/\/+$/, ''),
    paths,
    storage: options.storage ?? memoryStorage(),
    sessionKey: `${prefix}.session`,
    queueKey: `${prefix}.pending_logout`,
    fetch: options.fetch ?? ((input, init) => globalFetch(input, init)),
    refreshMargin: options.refreshMargin ?? 10_000,
    retry: { attempts: 4, baseDelay: 200, maxDelay: 2_000, ...options.retry },
    logoutRetry: { baseDelay: 2_000, maxDelay: 300_000, ...options.logoutRetry },
    logoutTimeout: options.logoutTimeout ?? 10_000,
    refreshTimeout: options.refreshTimeout ?? 15_000,
    csrfHeader: options.csrfHeader ?? 'X-CSRF-Token',
    csrfCookie: options.csrfCookie ?? 'jwtguard_csrf',
    now: options.now ?? Date.now,
  };
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
