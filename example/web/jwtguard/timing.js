// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
import { parseRetryAfter } from './headers.js';
/** Wait before retry number `failures` (1 = the first retry), with jitter. */
export function backoffDelay(failures, o) {
    const full = Math.min(o.maxDelay, o.baseDelay * 2 ** Math.max(0, failures - 1));
    return full / 2 + (Math.random() * full) / 2;
}
/**
 * The wait before retry number `failures` after the transient answer res:
 * the backoff, or the server's `Retry-After` when that is longer. Undefined
 * when `Retry-After` asks for more than `o.maxDelay`: the caller should not
 * wait that long inside one call, and gives the answer back instead.
 */
export function retryDelay(res, failures, o, now) {
    const backoff = backoffDelay(failures, o);
    const after = parseRetryAfter(res.headers.get('Retry-After'), now);
    if (after === undefined)
        return backoff;
    if (after * 1000 > o.maxDelay)
        return undefined;
    return Math.max(backoff, after * 1000);
}
/** Resolves after ms; rejects when signal aborts first. */
export function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
        const abortError = () => signal?.reason ?? Object.assign(new Error('aborted'), { name: 'AbortError' });
        if (signal?.aborted) {
            reject(abortError());
            return;
        }
        const onAbort = () => {
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
export function unref(timer) {
    const t = timer;
    if (t && typeof t.unref === 'function')
        t.unref();
}
