/**
 * Bearer-token authorization (RFC 6750). With no token configured, reads are open and writes
 * and operations are refused; otherwise a `read` token may read, a `write` token may read and
 * write targets, an `operate` token may read and start or cancel operations. `write` does not
 * imply `operate`: a token issued to manage targets must not gain, on upgrade, the power to
 * make wireprobe send packets on demand. Tokens are compared in constant time over their
 * SHA-256 digests, never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiScope, ApiToken } from '../config/types.js';
import { ErrorCodes } from '../lib/errors.js';
import { ApiHttpError } from './errors.js';

const REALM = 'Bearer realm="wireprobe"';
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The token that matches `presented`, comparing with every token (no early exit). */
function tokenOf(presented: string, tokens: readonly ApiToken[]): ApiToken | null {
  const got = digest(presented);
  let found: ApiToken | null = null;
  for (const t of tokens) {
    if (timingSafeEqual(got, digest(t.token))) found = t;
  }
  return found;
}

/** Whether a token of scope `has` may do what needs `need`. */
export function scopeAllows(has: ApiScope, need: ApiScope): boolean {
  return need === 'read' || has === need;
}

/** Who was let in: the matched token's source (`api.tokens[0]` or its file, never the token), null for an open read. */
export interface Principal {
  readonly source: string | null;
}

function noTokenError(need: ApiScope): ApiHttpError {
  if (need === 'operate') {
    const message = 'operations are disabled: no API token is configured (api.tokens, with the operate scope)';
    return new ApiHttpError(403, ErrorCodes.API_ERR_OPERATIONS_DISABLED, message);
  }
  return new ApiHttpError(403, ErrorCodes.API_ERR_WRITES_DISABLED, 'writes are disabled: no API token is configured (api.tokens)');
}

/**
 * Checks the Authorization header for an action that needs `need`: the principal, or the
 * error to answer.
 */
export function authenticate(header: string | undefined, tokens: readonly ApiToken[], need: ApiScope): Principal | ApiHttpError {
  if (tokens.length === 0) return need === 'read' ? { source: null } : noTokenError(need);
  if (header === undefined || header === '') {
    const message = 'missing bearer token (Authorization: Bearer <token>)';
    return new ApiHttpError(401, ErrorCodes.API_ERR_UNAUTHORIZED, message, { headers: { 'WWW-Authenticate': REALM } });
  }
  const match = BEARER.exec(header);
  const token = match === null ? null : tokenOf(match[1]!, tokens);
  if (token === null) {
    const headers = { 'WWW-Authenticate': `${REALM}, error="invalid_token"` };
    return new ApiHttpError(401, ErrorCodes.API_ERR_UNAUTHORIZED, 'invalid bearer token', { headers });
  }
  if (!scopeAllows(token.scope, need)) {
    const headers = { 'WWW-Authenticate': `${REALM}, error="insufficient_scope", scope="${need}"` };
    const message = `this token has the ${token.scope} scope; this needs a token with the ${need} scope`;
    return new ApiHttpError(403, ErrorCodes.API_ERR_FORBIDDEN, message, { headers });
  }
  return { source: token.source };
}

/**
 * Checks the Authorization header for an operation that needs `need`; returns the error to
 * answer, or null when it is allowed.
 */
export function authorize(header: string | undefined, tokens: readonly ApiToken[], need: ApiScope): ApiHttpError | null {
  const got = authenticate(header, tokens, need);
  return got instanceof ApiHttpError ? got : null;
}
