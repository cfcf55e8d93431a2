/**
 * The answer headers the client reads: `WWW-Authenticate` challenges (RFC
 * 9110 §11.6.1, with the Bearer error codes of RFC 6750 and RFC 9470) and
 * `Retry-After` (RFC 9110 §10.2.3).
 */

/** The error code of a step-up challenge (RFC 9470): the user must authenticate again. */
export const STEP_UP_REQUIRED = 'insufficient_user_authentication';

/** One challenge of a `WWW-Authenticate` header: its scheme and its auth-params (names lowercased). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** What a step-up challenge asks for. */
export interface StepUpChallenge {
  /** The longest time since the user's last authentication the route accepts, in seconds (`max_age`). */
  maxAge?: number;
  /** Acceptable authentication context classes (`acr_values`), in the server's order of preference. */
  acrValues?: string[];
  /** The challenge's `error_description`. */
  description?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * The challenges of a `WWW-Authenticate` value. Several headers (which
 * `Headers.get` joins with commas) and several challenges in one header are
 * both read; token68 credentials and anything malformed are skipped.
 */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  const out: Challenge[] = [];
  if (!header) return out;
  const s = header;
  let i = 0;
  let current: Challenge | undefined;
  const skipSpace = (at: number): number => {
    while (at < s.length && (s[at] === ' ' || s[at] === '\t')) at++;
    return at;
  };
  const token = (at: number): string => {
    let end = at;
    while (end < s.length && TCHAR.test(s[end] as string)) end++;
    return s.slice(at, end);
  };
  while (i < s.length) {
    i = skipSpace(i);
    if (s[i] === ',') {
      i++;
      continue;
    }
    const name = token(i);
    if (name === '') {
      i++; // not a token: skip it
      continue;
    }
    let j = skipSpace(i + name.length);
    if (s[j] !== '=' || current === undefined) {
      current = { scheme: name, params: {} };
      out.push(current);
      i += name.length;
      continue;
    }
    j = skipSpace(j + 1);
    let value: string;
    if (s[j] === '"') {
      [value, j] = quoted(s, j);
    } else {
      value = token(j);
      j += value.length;
    }
    const key = name.toLowerCase();
    if (!(key in current.params)) current.params[key] = value; // a repeated param: the first counts
    i = j;
  }
  return out;
}

/** The content of the quoted-string starting at s[at] (a `"`), unescaped, and the index after it. */
function quoted(s: string, at: number): [string, number] {
  let value = '';
  let i = at + 1;
  while (i < s.length && s[i] !== '"') {
    if (s[i] === '\\' && i + 1 < s.length) i++;
    value += s[i];
    i++;
  }
  return [value, i + 1];
}

/**
 * The step-up challenge of a `WWW-Authenticate` value: its Bearer (or
 * DPoP) challenge whose `error` is `insufficient_user_authentication`, or
 * undefined when there is none.
 */
export function stepUpChallenge(header: string | null | undefined): StepUpChallenge | undefined {
  const challenge = parseChallenges(header).find(
    (c) => /^(bearer|dpop)$/i.test(c.scheme) && c.params.error === STEP_UP_REQUIRED,
  );
  if (!challenge) return undefined;
  const { max_age: maxAge, acr_values: acrValues, error_description: description } = challenge.params;
  const out: StepUpChallenge = {};
  if (maxAge !== undefined && /^\d{1,15}$/.test(maxAge.trim())) out.maxAge = Number(maxAge.trim());
  const acr = acrValues?.split(/\s+/).filter((v) => v !== '');
  if (acr && acr.length > 0) out.acrValues = acr;
  if (description) out.description = description;
  return out;
}

/**
 * A `Retry-After` value in seconds from now: delay-seconds as they are, an
 * HTTP date measured on the clock `now` (ms since the epoch), at least 0.
 * Undefined when the header is missing or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (/^\d{1,15}$/.test(v)) return Number(v);
  if (!/[a-z]/i.test(v)) return undefined; // a negative or fractional number: not a date either
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
