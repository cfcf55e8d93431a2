import type { Config } from './config.js';
import { isKeyMissing } from './dpop.js';
import { isTransientStatus, readErrorBody } from './errors.js';
import { discard, fetchWithin, resolveUrl } from './http.js';
import type { SessionState } from './state.js';
import { backoffDelay, unref } from './timing.js';
import type { LogoutResult, Mode } from './types.js';

/** A revocation the server has not confirmed yet. */
export interface PendingLogout {
  mode: Mode;
  scope: 'local' | 'global';
  /** Bearer mode: the token to revoke. */
  refreshToken?: string;
  /** Cookie mode: the CSRF header's value; the browser sends the cookies. */
  csrfToken?: string;
  /**
   * DPoP: the id of the session's key. The server wants a proof of it, so
   * the key is deleted only once the entry is settled.
   */
  dpopKey?: string;
  /** After this (ms since the epoch) the token is dead anyway and the entry is dropped. */
  expiresAt: number;
}

/** Logout entries kept at most; the oldest go first. */
const MAX_PENDING_LOGOUTS = 20;

/**
 * Revocations that must reach the server: each is sent once, and when the
 * server cannot be reached or is unavailable it is kept in storage and
 * retried with backoff until the server confirms it or its token expires.
 * The DPoP key of an entry lives until the entry is settled (sent, refused,
 * expired or pushed out of the queue), then is deleted.
 */
export class LogoutQueue {
  private entries: PendingLogout[] = [];
  private flushing: Promise<number> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private closed = false;

  /** onDue is called when a retry is due; it should call {@link flush} once the client is ready. */
  constructor(
    private readonly cfg: Config,
    private readonly state: SessionState,
    private readonly onDue: () => void,
  ) {}

  /** How many revocations wait. */
  get size(): number {
    return this.entries.length;
  }

  /** Takes the queue stored as raw. Call it inside `state.serial`. */
  load(raw: string | null | undefined): void {
    this.entries = parseQueue(raw, this.cfg.mode);
  }

  /** Drops every entry. Call it inside `state.serial`. */
  async clear(): Promise<void> {
    this.entries.forEach((entry) => this.settle(entry));
    this.entries = [];
    await this.save();
  }

  /** Lets go of a settled entry: its DPoP key is no longer needed. */
  private settle(entry: PendingLogout): void {
    this.cfg.dpop?.deleteKey(entry.dpopKey);
  }

  /** Sends entry; queues it when the server cannot be reached or is unavailable. */
  async submit(entry: PendingLogout): Promise<LogoutResult> {
    const outcome = await this.send(entry);
    if (outcome !== 'retry') {
      this.settle(entry);
      return { revoked: outcome === 'revoked', queued: false };
    }
    await this.state.serial(async () => {
      const all = [...this.entries, entry];
      all.slice(0, -MAX_PENDING_LOGOUTS).forEach((dropped) => this.settle(dropped));
      this.entries = all.slice(-MAX_PENDING_LOGOUTS);
      await this.save().catch(() => undefined);
    });
    this.schedule();
    return { revoked: false, queued: true };
  }

  /** Sends the queued entries, joining a flush in flight; resolves with how many are left. */
  flush(): Promise<number> {
    if (!this.flushing) {
      const run = this.flushOnce();
      this.flushing = run;
      const done = (): void => {
        if (this.flushing === run) this.flushing = null;
      };
      run.then(done, done);
    }
    return this.flushing;
  }

  /** Arms the retry timer, after delay or else after the backoff of the failures so far. */
  schedule(delay?: number): void {
    if (this.closed || this.timer !== null || this.entries.length === 0) return;
    const wait = delay ?? backoffDelay(Math.max(1, this.failures), this.cfg.logoutRetry);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onDue();
    }, wait);
    unref(this.timer);
  }

  /** Stops the retry timer for good; the entries stay in storage. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private async flushOnce(): Promise<number> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const settled = new Set<PendingLogout>();
    let failed = false;
    for (const entry of [...this.entries]) {
      if (this.cfg.now() >= entry.expiresAt) {
        settled.add(entry); // the token died by itself
        continue;
      }
      const outcome = await this.send(entry);
      if (outcome === 'retry') failed = true;
      else settled.add(entry);
    }
    settled.forEach((entry) => this.settle(entry));
    const left = await this.state.serial(async () => {
      this.entries = this.entries.filter((e) => !settled.has(e));
      await this.save().catch(() => undefined);
      return this.entries.length;
    });
    this.failures = failed ? this.failures + 1 : 0;
    this.schedule();
    return left;
  }

  /**
   * Sends one revocation. `retry`: no answer, or a transient one. `refused`:
   * the server will never accept this token (invalid, already revoked or
   * expired for scope global), so there is nothing left to do.
   *
   * In cookie mode a 401 token_revoked may only mean that the access cookie
   * is one rotation behind (the answer of the last refresh was lost): the
   * server then accepts the refresh cookie, so the cookies are renewed once
   * and the revocation sent again.
   */
  private async send(entry: PendingLogout, renewed = false): Promise<'revoked' | 'refused' | 'retry'> {
    const { cfg } = this;
    const url = resolveUrl(cfg.base, cfg.paths.logout) + (entry.scope === 'local' ? '' : `?scope=${entry.scope}`);
    const init: RequestInit =
      entry.mode === 'bearer'
        ? {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ refresh_token: entry.refreshToken }),
          }
        : { method: 'POST', headers: { [cfg.csrfHeader]: entry.csrfToken ?? '' }, credentials: 'include' };
    const outcome = await this.post(url, init, entry.dpopKey);
    if (outcome !== 'token_revoked') return outcome;
    if (entry.mode !== 'cookie' || renewed) return 'refused';
    const renewal = await this.post(resolveUrl(cfg.base, cfg.paths.refresh), {
      method: 'POST',
      headers: { Accept: 'application/json', [cfg.csrfHeader]: entry.csrfToken ?? '' },
      credentials: 'include',
    });
    if (renewal === 'revoked') return this.send(entry, true);
    return renewal === 'retry' ? 'retry' : 'refused';
  }

  /**
   * POSTs init to url within the logout timeout, with a proof of DPoP key
   * dpopKey when given; the answer body is not read beyond its error code.
   */
  private async post(url: string, init: RequestInit, dpopKey?: string): Promise<'revoked' | 'refused' | 'retry' | 'token_revoked'> {
    const { dpop } = this.cfg;
    let res: Response;
    try {
      const send = dpop && dpopKey !== undefined ? dpop.fetch(dpopKey) : this.cfg.fetch;
      res = await fetchWithin(send, url, init, this.cfg.logoutTimeout);
    } catch (err) {
      // Without its key the server can never accept this revocation.
      return isKeyMissing(err) ? 'refused' : 'retry';
    }
    if (res.ok) {
      discard(res);
      return 'revoked';
    }
    if (isTransientStatus(res.status)) {
      discard(res);
      return 'retry';
    }
    const { code } = res.status === 401 ? await readErrorBody(res) : { code: '' };
    discard(res);
    return code === 'token_revoked' ? 'token_revoked' : 'refused';
  }

  private async save(): Promise<void> {
    if (this.entries.length === 0) await this.cfg.storage.removeItem(this.cfg.queueKey);
    else await this.cfg.storage.setItem(this.cfg.queueKey, JSON.stringify(this.entries));
  }
}

/** The entries of mode in a stored queue; anything unreadable counts as empty. */
function parseQueue(raw: string | null | undefined, mode: Mode): PendingLogout[] {
  if (!raw) return [];
  try {
    const list: unknown = JSON.parse(raw);
    if (!Array.isArray(list)) return [];
    return list.filter(
      (e): e is PendingLogout =>
        e !== null &&
        typeof e === 'object' &&
        e.mode === mode &&
        (e.scope === 'local' || e.scope === 'global') &&
        typeof e.expiresAt === 'number' &&
        (e.dpopKey === undefined || typeof e.dpopKey === 'string'),
    );
  } catch {
    return [];
  }
}
