// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
import { parseSession } from './session.js';
/**
 * The session shared by the parts of a client: a cache of the stored
 * session, the epoch that tells a refresh whether the session it started
 * from is still the current one, and the queue that serializes storage
 * reads and writes.
 */
export class SessionState {
    constructor(cfg) {
        this.cfg = cfg;
        /** Cache of the stored session; storage is read again where another tab may have changed it. */
        this.session = null;
        /** Advances on every login and sign-out: a refresh that started before one must not store its result. */
        this.epoch = 0;
        /** Serializes storage reads and writes. */
        this.chain = Promise.resolve();
    }
    /** Runs fn after every storage operation queued before it. */
    serial(fn) {
        const run = this.chain.then(fn, fn);
        this.chain = run.catch(() => undefined);
        return run;
    }
    /** The session in storage, without touching the cache. */
    async read() {
        return parseSession(await this.cfg.storage.getItem(this.cfg.sessionKey), this.cfg.mode);
    }
    /** Reads the session again from storage, which another tab may have changed. */
    reload() {
        return this.serial(async () => {
            this.session = await this.read();
            return this.session;
        });
    }
    /** Caches and stores next. Call it inside {@link serial}. */
    write(next) {
        this.session = next;
        return Promise.resolve(this.cfg.storage.setItem(this.cfg.sessionKey, JSON.stringify(next)));
    }
    /** Forgets the session, cached and stored. Call it inside {@link serial}. */
    clear() {
        this.session = null;
        return Promise.resolve(this.cfg.storage.removeItem(this.cfg.sessionKey));
    }
    /**
     * Clears the session `expected` after the server ended it. If storage
     * meanwhile holds another session (another tab logged in or refreshed),
     * that one is kept and returned instead; otherwise null.
     */
    endSession(expected) {
        return this.serial(async () => {
            const stored = await this.read();
            if (stored && stored.id !== expected.id) {
                this.session = stored;
                return stored;
            }
            this.epoch++;
            await this.clear();
            return null;
        });
    }
}
