import { parseRetryAfter } from './headers.js';
import type { BackoffOptions } from './types.js';

/** Wait before retry number `failures` (1 = the first retry), with jitter. */
export function backoffDelay(failures: number, o: Required<BackoffOptions>): number {
  const full = Math.min(o.maxDelay, o.baseDelay * 2 ** Math.max(0, failures - 1));
  return full / 2 + (Math.random() * full) / 2;
}

/**
 * The wait before retry number `failures` after the transient answer res:
 * the backoff, or the server's `Retry-After` when that is longer. Undefined
 * when `Retry-After` asks for more than `o.maxDelay`: the caller should not
 * wait that long inside one call, and gives the answer back instead.
 */
export function retryDelay(res: Response, failures: number, o: Required<BackoffOptions>, now: number): number | undefined {
  const backoff = backoffDelay(failures, o);
  const after = parseRetryAfter(res.headers.get('Retry-After'), now);
  if (after === undefined) return backoff;
  if (after * 1000 > o.maxDelay) return undefined;
  return Math.max(backoff, after * 1000);
}

/** Resolves after ms; rejects when signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const abortError = (): unknown => signal?.reason ?? Object.assign(new Error('aborted'), { name: 'AbortError' });
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Lets Node exit while a timer is pending; a no-op elsewhere. */
export function unref(timer: unknown): void {
  const t = timer as { unref?: () => void } | null;
  if (t && typeof t.unref === 'function') t.unref();
}
