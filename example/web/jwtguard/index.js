// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
/**
 * @jwtguard/client — the client half of jwtguard: login, single-flight
 * refresh, logout that always completes, bearer tokens (optionally bound to
 * a key with DPoP) or HttpOnly cookies.
 * No dependencies; needs `fetch` (browsers, React Native, Node 18+).
 */
export { createClient } from './client.js';
export { JwtGuardError, RateLimitedError, StepUpRequiredError, } from './errors.js';
export { webCryptoKeyProvider, } from './keys.js';
export { memoryStorage, secureStoreAdapter } from './storage.js';
