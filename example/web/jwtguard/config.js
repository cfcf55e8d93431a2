// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
import { memoryStorage } from './storage.js';
/** Checks options and fills in the defaults; throws a TypeError for a missing or invalid option. */
export function resolveOptions(options) {
    if (typeof options?.baseUrl !== 'string')
        throw new TypeError('createClient: baseUrl is required');
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
        refreshMargin: options.refreshMargin ?? 10000,
        retry: { attempts: 4, baseDelay: 200, maxDelay: 2000, ...options.retry },
        logoutRetry: { baseDelay: 2000, maxDelay: 300000, ...options.logoutRetry },
        logoutTimeout: options.logoutTimeout ?? 10000,
        refreshTimeout: options.refreshTimeout ?? 15000,
        csrfHeader: options.csrfHeader ?? 'X-CSRF-Token',
        csrfCookie: options.csrfCookie ?? 'jwtguard_csrf',
        now: options.now ?? Date.now,
    };
}
/**
 * The auth routes: login, refresh and logout must be given, as non-empty
 * strings; stepUp is optional, and a non-empty string when given.
 */
function resolvePaths(paths) {
    const out = { login: paths?.login, refresh: paths?.refresh, logout: paths?.logout };
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
    return Object.freeze(out);
}
