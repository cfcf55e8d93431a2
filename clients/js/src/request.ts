import type { Config } from './config.js';
import { isKeyMissing } from './dpop.js';
import {
  JwtGuardError,
  errorFromResponse,
  isStepUpAnswer,
  isTransientStatus,
  networkError,
  notSignedIn,
  readErrorBody,
  type StepUpRequiredError,
} from './errors.js';
import type { Emitter } from './events.js';
import { SAFE_METHODS, discard, isStream } from './http.js';
import type { Refresher } from './refresh.js';
import { csrfFor, isStale, type StoredSession } from './session.js';
import type { SessionState } from './state.js';
import { backoffDelay, retryDelay, sleep } from './timing.js';
import type { FetchLike } from './types.js';

/**
 * 401 codes of a guarded route that a refresh can cure. `token_revoked` is
 * among them: the access token may be one rotation behind (a refresh whose
 * answer was lost) or ahead of a store that lost a rotation, and a refresh
 * heals both; only a refresh that fails with a 401 signs out.
 */
const REFRESHABLE = new Set(['token_expired', 'token_revoked', 'token_missing']);

/** An answer, and the session whose credentials the request that got it carried. */
export interface Sent {
  res: Response;
  session: StoredSession;
}

/**
 * Sends requests with the session's credentials: refreshes a token about to
 * expire first, recovers once from a refreshable 401, signs out on 401
 * session_expired, rejects a step-up challenge (401
 * insufficient_user_authentication) keeping the tokens, and retries
 * idempotent requests after network errors and transient answers. A
 * DPoP-bound session's requests carry `Authorization: DPoP` and a fresh
 * proof each; a refused proof (`invalid_dpop_proof`, `use_dpop_nonce`,
 * after their one resend) is returned as it is, the tokens kept.
 */
export class Authorizer {
  constructor(
    private readonly cfg: Config,
    private readonly state: SessionState,
    private readonly refresher: Refresher,
    private readonly events: Emitter,
  ) {}

  /** Sends init to url (already resolved) with the session's credentials. */
  async send(url: string, init: RequestInit, idempotent: boolean): Promise<Response> {
    return (await this.sendWith(url, init, idempotent)).res;
  }

  /** Like {@link send}, and tells which session's credentials the answer is to. */
  async sendWith(url: string, init: RequestInit, idempotent: boolean): Promise<Sent> {
    const { retry } = this.cfg;
    const replayable = !isStream(init.body);
    let session = await this.fresh();
    let recovered = false;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchFor(session)(url, this.withCredentials(init, session));
      } catch (err) {
        if (init.signal?.aborted) throw err;
        if (isKeyMissing(err)) {
          // The tokens are useless without their key: the session is over.
          session = await this.refresher.end(session, err);
          continue;
        }
        if (!idempotent || !replayable || attempt >= retry.attempts) throw networkError(err);
        await sleep(backoffDelay(attempt, retry), init.signal);
        continue;
      }
      if (isTransientStatus(res.status) && idempotent && replayable && attempt < retry.attempts) {
        // A Retry-After longer than retry.maxDelay: the answer goes back as it is.
        const wait = retryDelay(res, attempt, retry, this.cfg.now());
        if (wait !== undefined) {
          discard(res);
          await sleep(wait, init.signal);
          continue;
        }
      }
      if (res.status !== 401) return { res, session };
      const { code: error, description } = await readErrorBody(res);
      if (isStepUpAnswer(res, error)) {
        // The token is valid but the user's authentication too old or weak
        // for this route: a refresh cannot raise it, so keep the tokens.
        throw await this.stepUpRequired(res, url, init.method ?? 'GET');
      }
      if (error === 'session_expired') {
        // The session reached its absolute lifetime: no refresh can help.
        const newer = await this.expired(session, new JwtGuardError(error, description || 'HTTP 401', { status: 401 }), res);
        if (recovered || !replayable) return { res, session };
        discard(res);
        recovered = true;
        session = newer;
        continue;
      }
      if (recovered || !replayable || !REFRESHABLE.has(error)) return { res, session };
      discard(res);
      recovered = true;
      session = await this.recover(session);
    }
  }

  /**
   * Ends session `sent` after a guarded route answered 401 session_expired
   * (signedOut is emitted, and the call rejects), unless another tab has
   * meanwhile stored a newer session, which is returned.
   */
  private async expired(sent: StoredSession, err: JwtGuardError, res: Response): Promise<StoredSession> {
    try {
      return await this.refresher.end(sent, err);
    } catch (signedOut) {
      discard(res);
      throw signedOut;
    }
  }

  /** The error of a step-up challenge to a request of method to url, after emitting `stepUpRequired`. */
  private async stepUpRequired(res: Response, url: string, method: string): Promise<StepUpRequiredError> {
    const err = (await errorFromResponse(res, this.cfg.now)) as StepUpRequiredError;
    discard(res);
    this.events.emit('stepUpRequired', {
      url,
      method,
      message: err.message,
      maxAge: err.maxAge,
      acrValues: err.acrValues,
    });
    return err;
  }

  /**
   * The fetch of a request with session's credentials: for a DPoP-bound
   * session one that signs a proof of its key, made for its access token,
   * on every attempt; else the plain one.
   */
  private fetchFor(session: StoredSession): FetchLike {
    const { dpop } = this.cfg;
    return dpop && session.dpopKey !== undefined ? dpop.fetch(session.dpopKey, session.accessToken) : this.cfg.fetch;
  }

  /** The request init with the session's credentials. */
  private withCredentials(init: RequestInit, session: StoredSession): RequestInit {
    const headers = new Headers(init.headers);
    if (this.cfg.mode === 'bearer') {
      headers.set('Authorization', `${session.dpopKey === undefined ? 'Bearer' : 'DPoP'} ${session.accessToken}`);
      return { ...init, headers };
    }
    if (!SAFE_METHODS.has(init.method ?? 'GET')) {
      const csrf = csrfFor(session, this.cfg);
      if (csrf) headers.set(this.cfg.csrfHeader, csrf);
    }
    return { ...init, headers, credentials: 'include' };
  }

  /** A session whose access token is not about to expire, refreshed if need be. */
  private async fresh(): Promise<StoredSession> {
    // The tokens of a refresh in flight replace the current ones, which the
    // rotation revokes: wait for them.
    const inFlight = this.refresher.inFlight;
    if (inFlight) return inFlight;
    const { session } = this.state;
    if (session && !isStale(session, this.cfg)) return session;
    const stored = await this.state.reload(); // another tab may have logged in or refreshed
    if (!stored) throw notSignedIn();
    return isStale(stored, this.cfg) ? this.refresher.once() : stored;
  }

  /** After a refreshable 401 of a request sent with `sent`: the session to retry with. */
  private async recover(sent: StoredSession): Promise<StoredSession> {
    const inFlight = this.refresher.inFlight;
    if (inFlight) return inFlight;
    const current = await this.state.reload();
    if (!current) throw notSignedIn();
    // Replaced since the request left (a refresh here or in another tab):
    // retry with the new tokens rather than refresh again.
    if (current.id !== sent.id) return current;
    return this.refresher.once();
  }
}
