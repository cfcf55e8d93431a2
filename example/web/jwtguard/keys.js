// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
import { randomId } from './encoding.js';
const STORE = 'keys';
/**
 * The default key provider: ES256 key pairs made by WebCrypto with
 * `extractable: false`, so their private key cannot be read out, not even by
 * the page's own scripts. In browsers the pairs are kept in IndexedDB (a
 * CryptoKey is stored as it is, never exported) and survive reloads; where
 * there is no IndexedDB (Node) they are kept in memory.
 */
export function webCryptoKeyProvider(options = {}) {
    const dbName = options.database === undefined ? 'jwtguard-dpop' : options.database;
    const memory = new Map();
    const idb = globalThis.indexedDB;
    const persistent = dbName !== null && idb !== undefined;
    let db;
    const subtle = () => {
        const s = globalThis.crypto?.subtle;
        if (!s)
            throw new TypeError('DPoP: this runtime has no WebCrypto (crypto.subtle); give dpop.keys a DPoPKeyProvider');
        return s;
    };
    const open = () => {
        if (db)
            return db;
        const opening = new Promise((resolve, reject) => {
            const req = idb.open(dbName, 1);
            req.onupgradeneeded = () => req.result.createObjectStore(STORE);
            req.onsuccess = () => {
                const conn = req.result;
                // Another page deleting or upgrading the database waits until this
                // connection closes; the browser may also close it (site data
                // cleared). The next call opens it again.
                const forget = () => {
                    if (db === opening)
                        db = undefined;
                };
                conn.onversionchange = () => {
                    conn.close();
                    forget();
                };
                conn.onclose = forget;
                resolve(conn);
            };
            req.onerror = () => reject(req.error);
        });
        db = opening;
        opening.catch(() => {
            if (db === opening)
                db = undefined; // the next call tries again
        });
        return opening;
    };
    /**
     * Runs fn's request in a transaction of mode and resolves with its result
     * once the transaction has committed; rejects when it aborts (a failed
     * request, a full disk).
     */
    const tx = async (mode, fn) => {
        let t;
        try {
            t = (await open()).transaction(STORE, mode);
        }
        catch {
            db = undefined; // a connection closed under us: open it again, once
            t = (await open()).transaction(STORE, mode);
        }
        return new Promise((resolve, reject) => {
            const req = fn(t.objectStore(STORE));
            t.oncomplete = () => resolve(req.result);
            t.onabort = () => reject(t.error ?? req.error ?? new Error('DPoP: the IndexedDB transaction was aborted'));
        });
    };
    const get = async (id) => {
        const cached = memory.get(id);
        if (cached || !persistent)
            return cached ?? null;
        const kept = await tx('readonly', (s) => s.get(id));
        if (!kept?.privateKey || !kept.jwk)
            return null;
        memory.set(id, kept);
        return kept;
    };
    const view = (id, kept) => ({ id, alg: 'ES256', jwk: kept.jwk });
    return {
        async create() {
            const pair = await subtle().generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
            // A public key is always exportable, whatever `extractable` says.
            const { kty, crv, x, y } = await subtle().exportKey('jwk', pair.publicKey);
            const kept = { privateKey: pair.privateKey, publicKey: pair.publicKey, jwk: { kty, crv, x, y } };
            const id = randomId();
            if (persistent)
                await tx('readwrite', (s) => s.put(kept, id));
            memory.set(id, kept);
            return view(id, kept);
        },
        async load(id) {
            const kept = await get(id);
            return kept && view(id, kept);
        },
        async sign(id, data) {
            const kept = await get(id);
            if (!kept)
                throw new Error(`DPoP: no key ${id}`);
            const sig = await subtle().sign({ name: 'ECDSA', hash: 'SHA-256' }, kept.privateKey, data);
            return new Uint8Array(sig); // WebCrypto's ECDSA signature is already r‖s
        },
        async delete(id) {
            memory.delete(id);
            if (persistent)
                await tx('readwrite', (s) => s.delete(id));
        },
    };
}
