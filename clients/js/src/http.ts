import { JwtGuardError } from './errors.js';
import { unref } from './timing.js';
import type { FetchLike } from './types.js';

/** Methods that need no CSRF header. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Methods that may be sent again when no answer, or a transient one, came back. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** The absolute URL of a path under base; refuses absolute URLs of another origin. */
export function resolveUrl(base: string, input: string | URL): string {
  const s = String(input);
  if (!/^[a-z][a-z\d+.-]*:/i.test(s)) return base + (s.startsWith('/') ? s : `/${s}`);
  const own = originOf(base) ?? originOf((globalThis as { location?: { origin?: string } }).location?.origin ?? '');
  if (own === undefined || originOf(s) !== own) {
    throw new JwtGuardError('cross_origin', `refusing to send credentials outside ${own ?? 'baseUrl'}`);
  }
  return s;
}

/** `scheme://host[:port]` of an absolute URL, lowercased; undefined for anything else. */
export function originOf(url: string): string | undefined {
  return /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i.exec(url)?.[0].toLowerCase();
}

/** The value of a cookie the page's scripts can read, in a browser; undefined elsewhere. */
export function readCookie(name: string): string | undefined {
  const doc = (globalThis as { document?: { cookie?: unknown } }).document;
  if (!doc || typeof doc.cookie !== 'string') return undefined;
  for (const part of doc.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value) || undefined;
      } catch {
        return value || undefined;
      }
    }
  }
  return undefined;
}

/** Frees the connection of an answer whose body nobody will read. */
export function discard(res: Response): void {
  if (!res.bodyUsed) res.body?.cancel().catch(() => undefined);
}

/** Whether a request body is a stream, which cannot be sent twice. */
export function isStream(body: unknown): boolean {
  return typeof ReadableStream === 'function' && body instanceof ReadableStream;
}

/**
 * fetchFn with a deadline: after ms without an answer (headers) the request
 * is aborted and the promise rejects with an error named `TimeoutError`, even
 * where fetchFn ignores the abort signal. init's own signal is replaced.
 */
export function fetchWithin(fetchFn: FetchLike, url: string, init: RequestInit, ms: number): Promise<Response> {
  const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(Object.assign(new Error(`no answer within ${ms} ms`), { name: 'TimeoutError' }));
      controller?.abort();
    }, ms);
    unref(timer);
  });
  return Promise.race([fetchFn(url, { ...init, signal: controller?.signal }), deadline]).finally(() => clearTimeout(timer));
}
