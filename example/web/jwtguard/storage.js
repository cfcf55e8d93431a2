// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
/**
 * An in-memory storage, the default: tokens live as long as the page or
 * app process. The safest place for a browser SPA's bearer tokens.
 */
export function memoryStorage() {
    const items = new Map();
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
/**
 * Adapts `expo-secure-store` (Keychain on iOS, Keystore-backed on Android)
 * to {@link TokenStorage}:
 *
 * ```ts
 * import * as SecureStore from 'expo-secure-store';
 * const storage = secureStoreAdapter(SecureStore);
 * ```
 */
export function secureStoreAdapter(store) {
    return {
        getItem: (key) => store.getItemAsync(key),
        setItem: (key, value) => store.setItemAsync(key, value),
        removeItem: (key) => store.deleteItemAsync(key),
    };
}
