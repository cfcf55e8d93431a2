/**
 * @jwtguard/client — the client half of jwtguard: login, single-flight
 * refresh, logout that always completes, bearer tokens (optionally bound to
 * a key with DPoP) or HttpOnly cookies.
 * No dependencies; needs `fetch` (browsers, React Native, Node 18+).
 */
export { createClient, type JwtGuardClient } from './client.js';
export {
  JwtGuardError,
  RateLimitedError,
  StepUpRequiredError,
  type ClientErrorCode,
  type JwtGuardErrorInit,
  type RateLimitedErrorInit,
  type StepUpRequiredErrorInit,
} from './errors.js';
export {
  webCryptoKeyProvider,
  type DPoPKeyProvider,
  type DPoPPublicKey,
  type WebCryptoKeyProviderOptions,
} from './keys.js';
export { memoryStorage, secureStoreAdapter, type SecureStoreLike, type TokenStorage } from './storage.js';
/** Options, sessions, events and results. */
export type {
  BackoffOptions,
  ClientEvents,
  ClientOptions,
  DPoPOptions,
  FetchLike,
  LoginOptions,
  LogoutResult,
  LogoutScope,
  Mode,
  Paths,
  RetryOptions,
  Session,
  SignedOutEvent,
  StepUpOptions,
  StepUpRequiredEvent,
} from './types.js';
