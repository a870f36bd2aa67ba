import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiHttpError, toHttpError } from '../../src/api/errors.js';
import { memoryLogger } from '../fakes/logger.js';

const where = { method: 'GET', path: '/x' };

void test('toHttpError: coded errors pass, 4xx errors of express become coded 4xx, the rest 500 and logged', () => {
  const { log, lines } = memoryLogger();
  const coded = new ApiHttpError(409, 'API_ERR_CONFLICT', 'taken');
  assert.equal(toHttpError(coded, log, where), coded);
  const uri = toHttpError(new URIError('URI malformed'), log, where);
  assert.deepEqual([uri.status, uri.code], [400, 'API_ERR_BAD_REQUEST']);
  const decode = toHttpError(Object.assign(new Error("Failed to decode param '%'"), { status: 400 }), log, where);
  assert.deepEqual([decode.status, decode.code], [400, 'API_ERR_BAD_REQUEST']);
  const missing = toHttpError(Object.assign(new Error('Not Found'), { statusCode: 404 }), log, where);
  assert.deepEqual([missing.status, missing.code], [404, 'API_ERR_NOT_FOUND']);
  assert.deepEqual(lines, [], 'client errors are not logged as errors');
  const internal = toHttpError(new Error('ENOENT: /etc/secret/path'), log, where);
  assert.deepEqual([internal.status, internal.code], [500, 'API_ERR_INTERNAL']);
  assert.ok(!internal.message.includes('/etc/secret'), 'the reason is not echoed');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /\/etc\/secret\/path/, 'the reason is logged');
});
