import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authenticate, authorize } from '../../../src/api/auth.js';
import type { ApiToken } from '../../../src/config/types.js';

const TOKENS: ApiToken[] = [
  { token: 'reader-0123456789abcdef', scope: 'read', source: 'api.tokens[0]' },
  { token: 'writer-0123456789abcdef', scope: 'write', source: '/run/secrets/w' },
  { token: 'operator-0123456789abcdef', scope: 'operate', source: 'api.tokens[2]' },
];

void test('no token configured: reads open, writes refused', () => {
  assert.equal(authorize(undefined, [], 'read'), null);
  assert.equal(authorize('Bearer whatever', [], 'read'), null);
  assert.equal(authorize(`Bearer ${TOKENS[1]!.token}`, [], 'write')?.code, 'API_ERR_WRITES_DISABLED');
  assert.equal(authorize(undefined, [], 'write')?.status, 403);
});

void test('scopes: read token reads only; write token reads and writes', () => {
  assert.equal(authorize(`Bearer ${TOKENS[0]!.token}`, TOKENS, 'read'), null);
  const e = authorize(`Bearer ${TOKENS[0]!.token}`, TOKENS, 'write');
  assert.equal(e?.status, 403);
  assert.equal(e?.code, 'API_ERR_FORBIDDEN');
  assert.equal(authorize(`Bearer ${TOKENS[1]!.token}`, TOKENS, 'read'), null);
  assert.equal(authorize(`Bearer ${TOKENS[1]!.token}`, TOKENS, 'write'), null);
  assert.equal(authorize(`bEaReR ${TOKENS[1]!.token}`, TOKENS, 'write'), null, 'the scheme is case-insensitive');
});

void test('missing, malformed and wrong tokens: 401 with WWW-Authenticate, the token never echoed', () => {
  const missing = authorize(undefined, TOKENS, 'read');
  assert.equal(missing?.status, 401);
  assert.equal(missing?.headers['WWW-Authenticate'], 'Bearer realm="wireprobe"');
  for (const header of ['', 'Bearer', 'Bearer  ', `Token ${TOKENS[0]!.token}`, `Bearer ${TOKENS[0]!.token} extra`, `Bearer ${TOKENS[0]!.token.toUpperCase()}`, `Bearer ${TOKENS[0]!.token}\u00e9`]) {
    const e = authorize(header, TOKENS, 'read');
    assert.equal(e?.status, 401, JSON.stringify(header));
    assert.equal(e?.code, 'API_ERR_UNAUTHORIZED');
    assert.ok(!e.message.includes(TOKENS[0]!.token));
  }
});

void test('operate scope: an operate token reads and operates but does not write; a write token does not operate', () => {
  const [read, write, operate] = TOKENS.map((t) => `Bearer ${t.token}`);
  assert.equal(authorize(operate, TOKENS, 'read'), null);
  assert.equal(authorize(operate, TOKENS, 'operate'), null);
  assert.equal(authorize(operate, TOKENS, 'write')?.code, 'API_ERR_FORBIDDEN');
  for (const h of [read, write]) {
    const e = authorize(h, TOKENS, 'operate');
    assert.equal(e?.status, 403);
    assert.equal(e?.code, 'API_ERR_FORBIDDEN');
    assert.match(e.headers['WWW-Authenticate'] ?? '', /scope="operate"/);
  }
  assert.deepEqual(authenticate(operate, TOKENS, 'operate'), { source: 'api.tokens[2]' }, 'the principal is the token source, never the token');
  assert.deepEqual(authenticate(undefined, [], 'read'), { source: null });
});

void test('no token configured: operations refused with their own code', () => {
  const e = authorize(undefined, [], 'operate');
  assert.equal(e?.status, 403);
  assert.equal(e?.code, 'API_ERR_OPERATIONS_DISABLED');
});
