import { base64url, base64urlText, randomId, sha256, utf8 } from './encoding.js';
import { JwtGuardError, readErrorBody } from './errors.js';
import { parseChallenges } from './headers.js';
import { discard, isStream, originOf } from './http.js';
import type { DPoPKeyProvider, DPoPPublicKey } from './keys.js';
import type { FetchLike } from './types.js';

/** The DPoP error codes (RFC 9449 §7.1, §8) after which a request is signed again and sent once more. */
const PROOF_ERRORS: ReadonlySet<string> = new Set(['use_dpop_nonce', 'invalid_dpop_proof']);

/** The members of a public JWK that RFC 7638 hashes, by key type; the proofs carry exactly these. */
const REQUIRED_MEMBERS: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/** The error code of a key that is gone: its session's tokens cannot be used any more. */
export const DPOP_KEY_MISSING = 'dpop_key_missing';

/** A new key for a login, and its RFC 7638 thumbprint (the tokens' `cnf.jkt`). */
export interface NewKey {
  /** The key's id in the key provider. */
  id: string;
  /** Its RFC 7638 SHA-256 thumbprint, base64url. */
  thumbprint: string;
}

/**
 * DPoP proofs (RFC 9449) for a client: signs each request with a key of
 * `keys`, keeps the server's latest nonce per origin, and signs again and
 * resends once when the server asks for a nonce (`use_dpop_nonce`) or
 * refuses the proof (`invalid_dpop_proof`).
 */
export class DPoPSigner {
  /** The latest `DPoP-Nonce` seen, by origin. */
  private readonly nonces = new Map<string, string>();
  /** Public keys loaded so far, by id. */
  private readonly publicKeys = new Map<string, DPoPPublicKey>();

  constructor(
    readonly keys: DPoPKeyProvider,
    private readonly fetchFn: FetchLike,
    private readonly now: () => number,
  ) {}

  /** Creates the key of a new login. */
  async createKey(): Promise<NewKey> {
    const key = await this.keys.create();
    const jwk = publicJwk(key.jwk);
    this.publicKeys.set(key.id, { ...key, jwk });
    return { id: key.id, thumbprint: await jwkThumbprint(jwk) };
  }

  /**
   * Deletes key id in the background. A failure is ignored: the key stays
   * in the provider, unused (its session is over).
   */
  deleteKey(id: string | undefined): void {
    if (id === undefined) return;
    this.publicKeys.delete(id);
    // A provider written in plain JavaScript may throw, or return no promise.
    try {
      Promise.resolve(this.keys.delete(id)).catch(() => undefined);
    } catch {
      // ignored, as a rejection
    }
  }

  /** The latest nonce the server at url's origin handed out, if any. */
  nonceFor(url: string): string | undefined {
    return this.nonces.get(originOf(absolute(url)) ?? '');
  }

  /**
   * A proof for a request of method to url, signed with key id: `htu` as
   * {@link htuOf} makes it, `ath` when accessToken is given, nonce (default
   * the origin's latest) when there is one.
   * Rejects with a `dpop_key_missing` JwtGuardError when the key is gone.
   */
  async proof(id: string, method: string, url: string, accessToken?: string, nonce = this.nonceFor(url)): Promise<string> {
    const key = await this.publicKey(id);
    const htu = htuOf(url);
    const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk };
    const payload: Record<string, unknown> = { jti: randomId(), htm: method.toUpperCase(), htu, iat: Math.floor(this.now() / 1000) };
    if (nonce !== undefined) payload.nonce = nonce;
    if (accessToken !== undefined) payload.ath = base64url(await sha256(utf8(accessToken)));
    const input = `${base64urlText(JSON.stringify(header))}.${base64urlText(JSON.stringify(payload))}`;
    let signature: Uint8Array;
    try {
      signature = await this.keys.sign(id, utf8(input));
    } catch (err) {
      // Gone for good, or a keystore failure worth another try later?
      const kept = await this.keys.load(id).then(
        (key) => key !== null,
        () => true,
      );
      throw kept ? err : keyMissing(err);
    }
    return `${input}.${base64url(signature)}`;
  }

  /**
   * A fetch that sends every request with a fresh proof of key id (made for
   * accessToken, at an API route), remembers the answer's `DPoP-Nonce`, and
   * when the server answers `use_dpop_nonce` or `invalid_dpop_proof` signs a
   * new proof and sends the request once more (not a stream body). Each
   * call, a retry of a lost answer included, signs anew: a proof is
   * accepted once.
   */
  fetch(id: string, accessToken?: string): FetchLike {
    return async (input, init = {}) => {
      for (let resent = false; ; resent = true) {
        const used = this.nonceFor(input);
        const headers = new Headers(init.headers);
        headers.set('DPoP', await this.proof(id, init.method ?? 'GET', input, accessToken, used));
        const res = await this.fetchFn(input, { ...init, headers });
        const nonce = res.headers.get('DPoP-Nonce');
        const origin = originOf(absolute(input));
        if (nonce && origin !== undefined) this.nonces.set(origin, nonce);
        if (resent || isStream(init.body)) return res;
        const problem = await proofError(res);
        // Without another nonce to put in it, a new proof would fail the same way.
        if (problem === undefined || (problem === 'use_dpop_nonce' && (!nonce || nonce === used))) return res;
        discard(res);
      }
    };
  }

  /** The public key of id, loaded once. */
  private async publicKey(id: string): Promise<DPoPPublicKey> {
    let key = this.publicKeys.get(id);
    if (!key) {
      const loaded = await this.keys.load(id);
      if (!loaded) throw keyMissing();
      key = { ...loaded, jwk: publicJwk(loaded.jwk) };
      this.publicKeys.set(id, key);
    }
    return key;
  }
}

/** The DPoP error of an answer (`use_dpop_nonce`, `invalid_dpop_proof`), from its challenge or its body; undefined for any other. */
export async function proofError(res: Response): Promise<string | undefined> {
  if (res.status !== 400 && res.status !== 401) return undefined;
  for (const c of parseChallenges(res.headers.get('WWW-Authenticate'))) {
    const code = c.params.error;
    if (/^dpop$/i.test(c.scheme) && code !== undefined && PROOF_ERRORS.has(code)) return code;
  }
  const { code } = await readErrorBody(res);
  return PROOF_ERRORS.has(code) ? code : undefined;
}

/** Whether err is the error of a DPoP key that is gone. */
export function isKeyMissing(err: unknown): err is JwtGuardError {
  return err instanceof JwtGuardError && err.code === DPOP_KEY_MISSING;
}

/** The RFC 7638 SHA-256 thumbprint of a public JWK, base64url. */
export async function jwkThumbprint(jwk: JsonWebKey): Promise<string> {
  const pub = publicJwk(jwk) as Record<string, unknown>;
  const members = REQUIRED_MEMBERS[jwk.kty as string] as readonly string[];
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(pub[m])}`).join(',')}}`;
  return base64url(await sha256(utf8(canonical)));
}

/** The public members of jwk that a proof carries; throws a TypeError for a key type DPoP does not take or a missing member. */
function publicJwk(jwk: JsonWebKey): JsonWebKey {
  const members = REQUIRED_MEMBERS[jwk?.kty ?? ''];
  if (!members) throw new TypeError(`DPoP: the key provider gave a JWK of kty ${String(jwk?.kty)}; want EC, OKP or RSA`);
  const out: Record<string, unknown> = {};
  for (const m of members) {
    const value = (jwk as Record<string, unknown>)[m];
    if (typeof value !== 'string' || value === '') throw new TypeError(`DPoP: the key provider's JWK has no ${m}`);
    out[m] = value;
  }
  return out as JsonWebKey;
}

/** The characters a path keeps as they are: RFC 3986 pchar, `/`, and the `%` of percent-encodings. */
const PATH_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@/%]/;

/**
 * The `htu` of a request to url (RFC 9449 §4.2): its absolute URL without
 * query and fragment, with the path as fetch sends it — parsed by the URL
 * standard (dot segments removed, a space or a non-ASCII character
 * percent-encoded as UTF-8) — and any character left that RFC 3986 does not
 * allow in a path (`|`, `[`, `^`, …) percent-encoded too, as the server
 * re-encodes it. Where `URL` does not parse (React Native's lacks the
 * getters), the path is only percent-encoded.
 */
export function htuOf(url: string): string {
  const abs = absolute(url);
  let origin: string;
  let path: string;
  try {
    const u = new URL(abs);
    origin = `${u.protocol}//${u.host}`;
    path = u.pathname;
  } catch {
    const m = /^([a-z][a-z\d+.-]*:\/\/[^/?#]*)([^?#]*)/i.exec(abs);
    if (!m) throw new TypeError(`DPoP: ${url} is not an absolute URL`);
    origin = m[1] as string;
    path = m[2] || '/';
  }
  let out = '';
  for (const ch of path) out += PATH_CHAR.test(ch) ? ch : percentEncode(ch);
  return origin + out;
}

/** The UTF-8 bytes of one character, percent-encoded (a lone surrogate as U+FFFD). */
function percentEncode(ch: string): string {
  let out = '';
  for (const b of utf8(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** url made absolute against the page's origin (a `baseUrl` of `''` in browsers). */
function absolute(url: string): string {
  if (/^[a-z][a-z\d+.-]*:/i.test(url)) return url;
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
  if (!origin) throw new TypeError(`DPoP: ${url} is not an absolute URL: give createClient an absolute baseUrl`);
  return origin + (url.startsWith('/') ? url : `/${url}`);
}

/** The error of a request whose DPoP key is gone. */
function keyMissing(cause?: unknown): JwtGuardError {
  return new JwtGuardError(DPOP_KEY_MISSING, 'the DPoP key of this session is gone; log in again', { cause });
}
