/**
 * @jwtguard/client — the client half of jwtguard: login, single-flight
 * refresh, logout that always completes, bearer tokens or HttpOnly cookies.
 * No dependencies; needs `fetch` (browsers, React Native, Node 18+).
 */
export {
  createClient,
  JwtGuardClient,
  bearerPaths,
  cookiePaths,
  type BackoffOptions,
  type ClientEvents,
  type ClientOptions,
  type FetchLike,
  type LoginOptions,
  type LogoutResult,
  type LogoutScope,
  type Mode,
  type Paths,
  type RetryOptions,
  type Session,
  type SignedOutEvent,
} from './client.js';
export { JwtGuardError, type ClientErrorCode, type JwtGuardErrorInit } from './errors.js';
export { memoryStorage, secureStoreAdapter, type SecureStoreLike, type TokenStorage } from './storage.js';
