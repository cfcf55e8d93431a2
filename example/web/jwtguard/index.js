// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
/**
 * @jwtguard/client — the client half of jwtguard: login, single-flight
 * refresh, logout that always completes, bearer tokens or HttpOnly cookies.
 * No dependencies; needs `fetch` (browsers, React Native, Node 18+).
 */
export { createClient } from './client.js';
export { JwtGuardError, RateLimitedError, StepUpRequiredError, } from './errors.js';
export { memoryStorage, secureStoreAdapter } from './storage.js';
