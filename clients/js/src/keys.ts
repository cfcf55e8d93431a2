import { randomId } from './encoding.js';

/**
 * The public half of a DPoP key: the JWS algorithm of its signatures and its
 * public JWK (RFC 7517), which goes into every proof's header. Only the
 * public members are ever sent (`kty`, `crv`, `x`, `y` for EC; `kty`, `crv`,
 * `x` for OKP; `kty`, `n`, `e` for RSA).
 */
export interface DPoPPublicKey {
  /** The key's id in its provider: saved with the session and with a queued logout. */
  readonly id: string;
  /** JWS algorithm of the signatures: `ES256` (the default key), `EdDSA`, `RS256` or `PS256`. */
  readonly alg: string;
  /** The public key as a JWK. */
  readonly jwk: JsonWebKey;
}

/**
 * Where DPoP private keys live and sign. The default,
 * {@link webCryptoKeyProvider}, keeps non-extractable WebCrypto keys (in
 * IndexedDB in browsers); on React Native, implement it over the platform's
 * keystore (Secure Enclave, Android Keystore) so the private key never
 * leaves the hardware: see the README's "DPoP" section.
 *
 * The client creates a key before each login, loads it by id after a
 * restart, signs each proof with it, and deletes it when the session has
 * ended and no queued logout needs it any more.
 */
export interface DPoPKeyProvider {
  /** Creates and keeps a new key pair; resolves with its id and public key. */
  create(): Promise<DPoPPublicKey>;
  /** The key kept under id, or null when there is none (deleted, or the keystore was wiped). */
  load(id: string): Promise<DPoPPublicKey | null>;
  /**
   * Signs data with the private key of id and resolves with the JWS
   * signature bytes: for ES256 the 64 bytes r‖s (RFC 7518 §3.4), not DER.
   * Rejects when the key is gone.
   */
  sign(id: string, data: Uint8Array): Promise<Uint8Array>;
  /** Deletes the key of id; resolves as well when there is none. */
  delete(id: string): Promise<void>;
}

/** Options of {@link webCryptoKeyProvider}. */
export interface WebCryptoKeyProviderOptions {
  /**
   * The IndexedDB database that keeps the key pairs in browsers. Default
   * `'jwtguard-dpop'` (object store `keys`, records
   * `{privateKey, publicKey, jwk}` under the key's id). `null`: keep them in
   * memory, gone with the page.
   */
  database?: string | null;
}

/** A key pair as kept: the CryptoKeys (structured-cloneable, never extractable) and the public JWK. */
interface KeptPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JsonWebKey;
}

const STORE = 'keys';

/**
 * The default key provider: ES256 key pairs made by WebCrypto with
 * `extractable: false`, so their private key cannot be read out, not even by
 * the page's own scripts. In browsers the pairs are kept in IndexedDB (a
 * CryptoKey is stored as it is, never exported) and survive reloads; where
 * there is no IndexedDB (Node) they are kept in memory.
 */
export function webCryptoKeyProvider(options: WebCryptoKeyProviderOptions = {}): DPoPKeyProvider {
  const dbName = options.database === undefined ? 'jwtguard-dpop' : options.database;
  const memory = new Map<string, KeptPair>();
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  const persistent = dbName !== null && idb !== undefined;
  let db: Promise<IDBDatabase> | undefined;

  const subtle = (): SubtleCrypto => {
    const s = globalThis.crypto?.subtle;
    if (!s) throw new TypeError('DPoP: this runtime has no WebCrypto (crypto.subtle); give dpop.keys a DPoPKeyProvider');
    return s;
  };
  const open = (): Promise<IDBDatabase> => {
    if (db) return db;
    const opening = new Promise<IDBDatabase>((resolve, reject) => {
      const req = (idb as IDBFactory).open(dbName as string, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => {
        const conn = req.result;
        // Another page deleting or upgrading the database waits until this
        // connection closes; the browser may also close it (site data
        // cleared). The next call opens it again.
        const forget = (): void => {
          if (db === opening) db = undefined;
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
      if (db === opening) db = undefined; // the next call tries again
    });
    return opening;
  };
  /**
   * Runs fn's request in a transaction of mode and resolves with its result
   * once the transaction has committed; rejects when it aborts (a failed
   * request, a full disk).
   */
  const tx = async <T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest): Promise<T> => {
    let t: IDBTransaction;
    try {
      t = (await open()).transaction(STORE, mode);
    } catch {
      db = undefined; // a connection closed under us: open it again, once
      t = (await open()).transaction(STORE, mode);
    }
    return new Promise<T>((resolve, reject) => {
      const req = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(req.result as T);
      t.onabort = () => reject(t.error ?? req.error ?? new Error('DPoP: the IndexedDB transaction was aborted'));
    });
  };
  const get = async (id: string): Promise<KeptPair | null> => {
    const cached = memory.get(id);
    if (cached || !persistent) return cached ?? null;
    const kept = await tx<KeptPair | undefined>('readonly', (s) => s.get(id));
    if (!kept?.privateKey || !kept.jwk) return null;
    memory.set(id, kept);
    return kept;
  };
  const view = (id: string, kept: KeptPair): DPoPPublicKey => ({ id, alg: 'ES256', jwk: kept.jwk });

  return {
    async create() {
      const pair = await subtle().generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      // A public key is always exportable, whatever `extractable` says.
      const { kty, crv, x, y } = await subtle().exportKey('jwk', pair.publicKey);
      const kept: KeptPair = { privateKey: pair.privateKey, publicKey: pair.publicKey, jwk: { kty, crv, x, y } };
      const id = randomId();
      if (persistent) await tx('readwrite', (s) => s.put(kept, id));
      memory.set(id, kept);
      return view(id, kept);
    },
    async load(id) {
      const kept = await get(id);
      return kept && view(id, kept);
    },
    async sign(id, data) {
      const kept = await get(id);
      if (!kept) throw new Error(`DPoP: no key ${id}`);
      const sig = await subtle().sign({ name: 'ECDSA', hash: 'SHA-256' }, kept.privateKey, data as Uint8Array<ArrayBuffer>);
      return new Uint8Array(sig); // WebCrypto's ECDSA signature is already r‖s
    },
    async delete(id) {
      memory.delete(id);
      if (persistent) await tx('readwrite', (s) => s.delete(id));
    },
  };
}
