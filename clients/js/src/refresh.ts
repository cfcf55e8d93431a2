import type { Config } from './config.js';
import { isKeyMissing } from './dpop.js';
import { JwtGuardError, errorFromResponse, isGrantRefused, networkError, notSignedIn, readErrorBody } from './errors.js';
import type { Emitter } from './events.js';
import { fetchWithin, resolveUrl } from './http.js';
import { csrfFor, publicSession, sessionFromResponse, type StoredSession } from './session.js';
import type { SessionState } from './state.js';
import { backoffDelay, retryDelay, sleep } from './timing.js';
import type { FetchLike } from './types.js';

/**
 * How long after the first unanswered refresh of a refresh token a retry
 * may still follow at once, in milliseconds: a little under the server's
 * default RefreshGrace (5 s), within which retries converge on the server
 * and cost nothing. After it, each retry the server answers spends one of
 * the session's few RefreshRetries, so a refresh call stops at its first
 * unanswered attempt and leaves the next one to a later call.
 */
const FREE_RETRY_WINDOW = 4_000;

/**
 * Refreshes the session, one refresh at a time: whoever needs a refresh
 * while one is in flight gets that one's result.
 */
export class Refresher {
  private running: Promise<StoredSession> | null = null;
  /** The session whose refresh first went unanswered, and when (`cfg.now()`) that attempt left. */
  private lost: { id: string; at: number } | null = null;

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
   * Ends session `s` after the server said it is over: clears it, emits
   * `signedOut` with the code of `err` and rejects with a signed-out
   * JwtGuardError. If storage meanwhile holds another session (another tab
   * logged in or refreshed), nothing ends and that session is returned.
   */
  async end(s: StoredSession, err: JwtGuardError): Promise<StoredSession> {
    const newer = await this.state.endSession(s);
    if (newer) return newer;
    this.cfg.dpop?.deleteKey(s.dpopKey);
    this.events.emit('signedOut', { reason: err.code });
    throw new JwtGuardError(err.code, err.message, { status: err.status, signedOut: true });
  }

  /**
   * One refresh, always with the refresh token of the session it started
   * from, so that a retry after a lost answer is one the server recognises
   * (it answers a pair for the session's current generation). Retried after
   * lost answers (network errors, timeouts, a body cut short) and transient
   * answers (429, 5xx), which never drop the tokens; a `Retry-After`
   * longer than `retry.maxDelay` rejects at once (a 429 as a
   * RateLimitedError). A refused grant — `400 invalid_grant`, whatever its
   * `reason` (`refresh_reused`, `token_revoked`, `session_expired`, …), or a
   * 401 — ends the session (unless storage meanwhile holds a newer one,
   * which is returned), and so does a DPoP key that is gone; other 400s
   * (`use_dpop_nonce` and `invalid_dpop_proof` after their one resend
   * among them) and 403 reject and keep the tokens.
   */
  private async send(): Promise<StoredSession> {
    const { cfg, state } = this;
    const epoch = state.epoch;
    const current = await state.reload();
    if (!current) throw notSignedIn();
    let lastError: JwtGuardError = notSignedIn();
    let wait = 0; // before the next attempt
    for (let attempt = 1; attempt <= cfg.retry.attempts; attempt++) {
      if (attempt > 1) await sleep(wait);
      if (state.epoch !== epoch) throw notSignedIn(); // logged out meanwhile
      const sentAt = cfg.now();
      let res: Response;
      let next: StoredSession | undefined;
      try {
        res = await fetchWithin(this.fetchFor(current), resolveUrl(cfg.base, cfg.paths.refresh), this.init(current), cfg.refreshTimeout);
        if (res.ok) next = await sessionFromResponse(res, cfg, current.dpopKey === undefined ? undefined : { key: current.dpopKey, thumbprint: current.dpopThumbprint ?? '' });
      } catch (err) {
        if (isKeyMissing(err)) return this.end(current, err); // its tokens are useless without it
        const failure = err instanceof JwtGuardError ? err : networkError(err);
        if (failure.code !== 'network_error') throw failure; // bad_response
        lastError = failure;
        if (this.stopAfterLoss(current, sentAt)) break;
        wait = backoffDelay(attempt, cfg.retry);
        continue;
      }
      if (next) {
        const fresh = next;
        const kept = await state.serial(async () => {
          if (state.epoch !== epoch) return false;
          await state.write(fresh);
          return true;
        });
        if (!kept) throw notSignedIn();
        this.events.emit('refreshed', publicSession(fresh));
        return fresh;
      }
      const err = await errorFromResponse(res, cfg.now);
      // The refresh token is dead: reused, revoked, expired, invalid, or the
      // session reached its absolute lifetime (session_expired). err.code is
      // the server's reason.
      if (isGrantRefused(res.status, await readErrorBody(res))) return this.end(current, err);
      if (!err.retryable) throw err; // invalid_request, 403: retrying cannot help; tokens kept
      lastError = err;
      // 429, 5xx: tokens kept. A Retry-After longer than retry.maxDelay
      // ends the call at once: the server said when to come back.
      const delay = retryDelay(res, attempt, cfg.retry, cfg.now());
      if (delay === undefined) throw err;
      wait = delay;
    }
    throw lastError;
  }

  /**
   * Records that the refresh of `s` sent at `sentAt` got no answer, and
   * tells whether this call should stop retrying: yes once an attempt sent
   * after {@link FREE_RETRY_WINDOW} from the first loss is lost too. The
   * server may have rotated, so the tokens are kept either way.
   */
  private stopAfterLoss(s: StoredSession, sentAt: number): boolean {
    if (this.lost?.id !== s.id) {
      this.lost = { id: s.id, at: sentAt };
      return false;
    }
    return sentAt - this.lost.at >= FREE_RETRY_WINDOW;
  }

  /**
   * The fetch of a refresh of session s: with a fresh DPoP proof of its key
   * for every attempt when it is bound (a proof is accepted once, so a retry
   * after a lost answer signs anew), else the plain one.
   */
  private fetchFor(s: StoredSession): FetchLike {
    const { dpop } = this.cfg;
    return dpop && s.dpopKey !== undefined ? dpop.fetch(s.dpopKey) : this.cfg.fetch;
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
