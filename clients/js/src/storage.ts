/**
 * Where the client keeps its session: a key–value store of strings,
 * synchronous or asynchronous. The shape is the one of `window.localStorage`
 * and `window.sessionStorage` (synchronous) and of React Native's
 * `@react-native-async-storage/async-storage` (asynchronous), so those can be
 * passed as they are. For `expo-secure-store` use {@link secureStoreAdapter}.
 *
 * The client writes two keys: `<storageKey>.session` (the tokens, or in
 * cookie mode only the CSRF token and expiry times) and
 * `<storageKey>.pending_logout` (revocations still to be sent). Key names
 * use only letters, digits, `.` and `_`, as SecureStore requires.
 */
export interface TokenStorage {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/**
 * An in-memory storage, the default: tokens live as long as the page or
 * app process. The safest place for a browser SPA's bearer tokens.
 */
export function memoryStorage(): TokenStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => {
      items.set(key, value);
    },
    removeItem: (key) => {
      items.delete(key);
    },
  };
}

/** The part of `expo-secure-store` that {@link secureStoreAdapter} uses. */
export interface SecureStoreLike {
  getItemAsync(key: string): Promise<string | null>;
  setItemAsync(key: string, value: string): Promise<void>;
  deleteItemAsync(key: string): Promise<void>;
}

/**
 * Adapts `expo-secure-store` (Keychain on iOS, Keystore-backed on Android)
 * to {@link TokenStorage}:
 *
 * ```ts
 * import * as SecureStore from 'expo-secure-store';
 * const storage = secureStoreAdapter(SecureStore);
 * ```
 */
export function secureStoreAdapter(store: SecureStoreLike): TokenStorage {
  return {
    getItem: (key) => store.getItemAsync(key),
    setItem: (key, value) => store.setItemAsync(key, value),
    removeItem: (key) => store.deleteItemAsync(key),
  };
}
