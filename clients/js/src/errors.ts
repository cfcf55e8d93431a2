/**
 * Error codes the client produces itself. Every other code of a
 * {@link JwtGuardError} is the server's (`invalid_credentials`,
 * `token_revoked`, `refresh_reused`, `store_unavailable`, …).
 */
export type ClientErrorCode =
  /** No session: log in first. */
  | 'not_signed_in'
  /** The request never got an HTTP answer (offline, DNS, reset, timeout). */
  | 'network_error'
  /** The server answered something that is not the documented contract. */
  | 'bad_response'
  /** `request` was given a URL outside `baseUrl`'s origin; no token was sent. */
  | 'cross_origin';

/** Details of a {@link JwtGuardError}. */
export interface JwtGuardErrorInit {
  /** HTTP status of the answer, 0 when there was none. */
  status?: number;
  /** Trying again later may succeed (503, network errors). */
  retryable?: boolean;
  /** The session was ended on this device because of this error. */
  signedOut?: boolean;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * What every method of the client rejects with. `code` is the server's
 * error code (`{"error": "<code>"}`) or a {@link ClientErrorCode}.
 */
export class JwtGuardError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly signedOut: boolean;
  readonly cause: unknown;

  constructor(code: string, message: string, init: JwtGuardErrorInit = {}) {
    super(message);
    this.name = 'JwtGuardError';
    this.code = code;
    this.status = init.status ?? 0;
    this.retryable = init.retryable ?? false;
    this.signedOut = init.signedOut ?? false;
    this.cause = init.cause;
  }
}

/** The error body of the server: `{"error": "<code>", "message": "…"}`. */
export interface ErrorBody {
  error: string;
  message: string;
}

/**
 * Reads the error body of res without consuming res (it reads a clone).
 * Answers without such a body give empty strings.
 */
export async function readErrorBody(res: Response): Promise<ErrorBody> {
  try {
    const body: unknown = await res.clone().json();
    if (body !== null && typeof body === 'object') {
      const { error, message } = body as Record<string, unknown>;
      return {
        error: typeof error === 'string' ? error : '',
        message: typeof message === 'string' ? message : '',
      };
    }
  } catch {
    // Not JSON: a proxy's error page, an empty body.
  }
  return { error: '', message: '' };
}

/** A JwtGuardError for an HTTP answer that is not a success. */
export async function errorFromResponse(res: Response, signedOut = false): Promise<JwtGuardError> {
  const body = await readErrorBody(res);
  const code = body.error || (res.status >= 500 ? 'server_error' : 'bad_response');
  return new JwtGuardError(code, body.message || `HTTP ${res.status}`, {
    status: res.status,
    retryable: isTransientStatus(res.status),
    signedOut,
  });
}

/** A JwtGuardError for a request that got no HTTP answer. */
export function networkError(cause: unknown): JwtGuardError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new JwtGuardError('network_error', `network error: ${detail}`, { retryable: true, cause });
}

/**
 * Statuses worth trying again: the store is down (503 store_unavailable),
 * a proxy or the server is in trouble, or the client is asked to slow down.
 */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** The JwtGuardError of a call that needs a session when there is none. */
export function notSignedIn(): JwtGuardError {
  return new JwtGuardError('not_signed_in', 'not signed in');
}
