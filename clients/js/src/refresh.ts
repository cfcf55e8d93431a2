import type { Config } from './config.js';
import { JwtGuardError, errorFromResponse, networkError, notSignedIn } from './errors.js';
import type { Emitter } from './events.js';
import { resolveUrl } from './http.js';
import { csrfFor, publicSession, sessionFromResponse, type StoredSession } from './session.js';
import type { SessionState } from './state.js';
import { backoffDelay, sleep } from './timing.js';

/**
 * Refreshes the session, one refresh at a time: whoever needs a refresh
 * while one is in flight gets that one's result.
 */
export class Refresher {
  private running: Promise<StoredSession> | null = null;

  constructor(
    private readonly cfg: Config,
    private readonly state: SessionState,
    private readonly events: Emitter,
  ) {}

  /** The refresh in flight, or null. */
  get inFlight(): Promise<StoredSession> | null {
    return this.running;
  }

  /** The refresh in flight, or a new one. */
  once(): Promise<StoredSession> {
    if (!this.running) {
      const run = this.send();
      this.running = run;
      const done = (): void => {
        if (this.running === run) this.running = null;
      };
      run.then(done, done);
    }
    return this.running;
  }

  /**
   * One refresh, retried after network errors and transient answers. Any
   * 401 ends the session (unless storage meanwhile holds a newer one, which
   * is returned); 400 and 403 reject and keep the tokens.
   */
  private async send(): Promise<StoredSession> {
    const { cfg, state } = this;
    const epoch = state.epoch;
    const current = await state.reload();
    if (!current) throw notSignedIn();
    let lastError: JwtGuardError = notSignedIn();
    for (let attempt = 1; attempt <= cfg.retry.attempts; attempt++) {
      if (attempt > 1) await sleep(backoffDelay(attempt - 1, cfg.retry));
      if (state.epoch !== epoch) throw notSignedIn(); // logged out meanwhile
      let res: Response;
      try {
        res = await cfg.fetch(resolveUrl(cfg.base, cfg.paths.refresh), this.init(current));
      } catch (err) {
        lastError = networkError(err);
        continue;
      }
      if (res.ok) {
        const next = await sessionFromResponse(res, cfg);
        const kept = await state.serial(async () => {
          if (state.epoch !== epoch) return false;
          await state.write(next);
          return true;
        });
        if (!kept) throw notSignedIn();
        this.events.emit('refreshed', publicSession(next));
        return next;
      }
      const err = await errorFromResponse(res);
      if (res.status === 401) {
        // The refresh token is dead: reused, revoked, expired, invalid.
        const newer = await state.endSession(current);
        if (newer) return newer;
        this.events.emit('signedOut', { reason: err.code });
        throw new JwtGuardError(err.code, err.message, { status: 401, signedOut: true });
      }
      if (!err.retryable) throw err; // 400, 403: retrying cannot help; tokens kept
      lastError = err;
    }
    throw lastError;
  }

  /** The refresh request for session s. */
  private init(s: StoredSession): RequestInit {
    if (this.cfg.mode === 'bearer') {
      return {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ refresh_token: s.refreshToken }),
      };
    }
    const headers: Record<string, string> = { Accept: 'application/json' };
    const csrf = csrfFor(s, this.cfg);
    if (csrf) headers[this.cfg.csrfHeader] = csrf;
    return { method: 'POST', headers, credentials: 'include' };
  }
}
