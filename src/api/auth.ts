/**
 * Bearer-token authorization (RFC 6750). With no token configured, reads are open and writes
 * are refused; otherwise a `read` token may read and a `write` token may read and write.
 * Tokens are compared in constant time over their SHA-256 digests, never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiScope, ApiToken } from '../config/types.js';
import { ErrorCodes } from '../lib/errors.js';
import { ApiHttpError } from './errors.js';

const REALM = 'Bearer realm="wireprobe"';
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The scope of the token that matches `presented`, comparing with every token (no early exit). */
function scopeOf(presented: string, tokens: readonly ApiToken[]): ApiScope | null {
  const got = digest(presented);
  let scope: ApiScope | null = null;
  for (const t of tokens) {
    if (timingSafeEqual(got, digest(t.token))) scope = t.scope;
  }
  return scope;
}

/**
 * Checks the Authorization header for an operation that needs `need`; returns the error to
 * answer, or null when it is allowed.
 */
export function authorize(header: string | undefined, tokens: readonly ApiToken[], need: ApiScope): ApiHttpError | null {
  if (tokens.length === 0) {
    if (need === 'read') return null;
    const message = 'writes are disabled: no API token is configured (api.tokens)';
    return new ApiHttpError(403, ErrorCodes.API_ERR_WRITES_DISABLED, message);
  }
  if (header === undefined || header === '') {
    const message = 'missing bearer token (Authorization: Bearer <token>)';
    return new ApiHttpError(401, ErrorCodes.API_ERR_UNAUTHORIZED, message, { headers: { 'WWW-Authenticate': REALM } });
  }
  const match = BEARER.exec(header);
  const scope = match === null ? null : scopeOf(match[1]!, tokens);
  if (scope === null) {
    const headers = { 'WWW-Authenticate': `${REALM}, error="invalid_token"` };
    return new ApiHttpError(401, ErrorCodes.API_ERR_UNAUTHORIZED, 'invalid bearer token', { headers });
  }
  if (need === 'write' && scope !== 'write') {
    const headers = { 'WWW-Authenticate': `${REALM}, error="insufficient_scope", scope="write"` };
    return new ApiHttpError(403, ErrorCodes.API_ERR_FORBIDDEN, 'this token has the read scope; writes need a write token', {
      headers,
    });
  }
  return null;
}
