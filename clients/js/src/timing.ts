import type { BackoffOptions } from './types.js';

/** Wait before retry number `failures` (1 = the first retry), with jitter. */
export function backoffDelay(failures: number, o: Required<BackoffOptions>): number {
  const full = Math.min(o.maxDelay, o.baseDelay * 2 ** Math.max(0, failures - 1));
  return full / 2 + (Math.random() * full) / 2;
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
