// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
/** Wait before retry number `failures` (1 = the first retry), with jitter. */
export function backoffDelay(failures, o) {
    const full = Math.min(o.maxDelay, o.baseDelay * 2 ** Math.max(0, failures - 1));
    return full / 2 + (Math.random() * full) / 2;
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
