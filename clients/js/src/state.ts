import type { Config } from './config.js';
import { parseSession, type StoredSession } from './session.js';

/**
 * The session shared by the parts of a client: a cache of the stored
 * session, the epoch that tells a refresh whether the session it started
 * from is still the current one, and the queue that serializes storage
 * reads and writes.
 */
export class SessionState {
  /** Cache of the stored session; storage is read again where another tab may have changed it. */
  session: StoredSession | null = null;
  /** Advances on every login and sign-out: a refresh that started before one must not store its result. */
  epoch = 0;
  /** Serializes storage reads and writes. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly cfg: Config) {}

  /** Runs fn after every storage operation queued before it. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The session in storage, without touching the cache. */
  async read(): Promise<StoredSession | null> {
    return parseSession(await this.cfg.storage.getItem(this.cfg.sessionKey), this.cfg.mode);
  }

  /** Reads the session again from storage, which another tab may have changed. */
  reload(): Promise<StoredSession | null> {
    return this.serial(async () => {
      this.session = await this.read();
      return this.session;
    });
  }

  /** Caches and stores next. Call it inside {@link serial}. */
  write(next: StoredSession): Promise<void> {
    this.session = next;
    return Promise.resolve(this.cfg.storage.setItem(this.cfg.sessionKey, JSON.stringify(next)));
  }

  /** Forgets the session, cached and stored. Call it inside {@link serial}. */
  clear(): Promise<void> {
    this.session = null;
    return Promise.resolve(this.cfg.storage.removeItem(this.cfg.sessionKey));
  }

  /**
   * Clears the session `expected` after the server ended it. If storage
   * meanwhile holds another session (another tab logged in or refreshed),
   * that one is kept and returned instead; otherwise null.
   */
  endSession(expected: StoredSession): Promise<StoredSession | null> {
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
