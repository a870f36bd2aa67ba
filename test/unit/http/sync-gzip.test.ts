import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { SyncGzip } from '../../../src/http/sync-gzip.js';
import { isAppError } from '../../../src/lib/errors.js';

/** text like an exposition, ~2.6 MB, then 300 KB of random bytes (its output fills several 64 KB pieces) */
function input(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < 40_000; i++) lines.push(`icmp_round_trip_time_seconds_bucket{destination="target-${i}.example.net",le="0.005"} ${i * 7}\n`);
  return Buffer.concat([Buffer.from(lines.join(''), 'utf8'), randomBytes(300_000)]);
}

void test('SyncGzip: fed in pieces of any size, the same bytes as gzipSync of the whole, pieces left untouched once handed on', () => {
  const whole = input();
  const pieces: Buffer[] = [];
  const gz = new SyncGzip(1, (bytes) => pieces.push(bytes));
  // the caller reuses its buffer once write returns: overwrite it after each write
  const scratch = Buffer.alloc(256 * 1024);
  const sizes = [1, 100, 65_536, 256 * 1024, 7];
  let offset = 0;
  for (let i = 0; offset < whole.length; i++) {
    const n = Math.min(sizes[i % sizes.length] ?? 1, whole.length - offset);
    whole.copy(scratch, 0, offset, offset + n);
    gz.write(scratch.subarray(0, n));
    scratch.fill(0xaa, 0, n);
    offset += n;
  }
  gz.end();
  assert.ok(pieces.length > 5, `${pieces.length} pieces`);
  assert.ok(pieces.every((p) => p.length > 0 && p.length <= 64 * 1024));
  const out = Buffer.concat(pieces);
  assert.ok(gunzipSync(out).equals(whole));
  assert.ok(out.equals(gzipSync(whole, { level: 1 })));
});

void test('SyncGzip: an empty stream is a valid gzip of nothing; writing after end or close is a coded error', () => {
  const pieces: Buffer[] = [];
  const gz = new SyncGzip(1, (bytes) => pieces.push(bytes));
  gz.end();
  assert.equal(gunzipSync(Buffer.concat(pieces)).length, 0);
  assert.throws(() => gz.write(Buffer.from('x')), (e: unknown) => isAppError(e, 'MET_ERR_GZIP'));
  const closed = new SyncGzip(1, () => undefined);
  closed.write(Buffer.from('abc'));
  closed.close();
  assert.throws(() => closed.end(), (e: unknown) => isAppError(e, 'MET_ERR_GZIP'));
});
