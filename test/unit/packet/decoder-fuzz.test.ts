// A seeded 20 000-frame run of the decoder fuzzer (bench/decoder-fuzz.ts runs 10^6): no decoder
// throws, and the mutations leave enough frames each decoder accepts for the run to mean something.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzDecoders } from './decoder-fuzz.js';

void test('decoder fuzz: 20 000 frames through every decoder, no throw', () => {
  const r = fuzzDecoders(20_000, 0x5eed);
  assert.deepEqual(r.throws, { probeFrame: 0, icmpError: 0, dhcp: 0, batch: 0 }, r.firstThrow ?? '');
  assert.ok(r.accepted.probeFrame > 2000, `probe frames decoded: ${r.accepted.probeFrame}`);
  assert.ok(r.accepted.icmpError > 100, `ICMP errors decoded: ${r.accepted.icmpError}`);
  assert.ok(r.accepted.dhcp > 100, `DHCP frames decoded (or rejected as malformed): ${r.accepted.dhcp}`);
  assert.ok(r.accepted.batch > 10, `batches with decoded frames: ${r.accepted.batch}`);
});
