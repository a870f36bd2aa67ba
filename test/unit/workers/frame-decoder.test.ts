/** The worker threads decode with the probe registry: the frame kinds the engine expects. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../../../src/lib/address.js';
import { createEchoTemplate } from '../../../src/packet/icmp.js';
import { frameKind, FrameRole, packFrame, recordSize, type DecodedBatch } from '../../../src/packet/probe-frame.js';
import { createSynTemplate } from '../../../src/packet/tcp.js';
import { probeKindOf } from '../../../src/probes/index.js';
import { createFrameDecoder } from '../../../src/workers/frame-decoder.js';
import { createWorkerPool } from '../../../src/workers/pool.js';

void test('a batch decoded in a worker, or inline when small, names the registry types', async () => {
  const pool = createWorkerPool({ minThreads: 0, maxThreads: 1 });
  try {
    const o = { family: 4 as const, src: parseIp('198.18.0.2')!, dst: parseIp('198.19.0.1')!, tos: 0, ttl: 64, dontFragment: true };
    const echo = createEchoTemplate({ ...o, ipPayloadSize: 16 }).stamp(0x1230, 7);
    const syn = createSynTemplate({ ...o, dstPort: 80, ipPayloadSize: 20 }).stamp(40000, 1234, 0);
    const batch = new Uint8Array(recordSize(echo.length) + recordSize(syn.length));
    const used = packFrame(batch, packFrame(batch, 0, 1, 0, 12, echo, echo.length), 1, 5, 12, syn, syn.length);
    for (const inline of [0, used]) {
      const before = pool.completed();
      const d = await createFrameDecoder(pool, inline).decode(batch.slice(), used);
      assert.equal(pool.completed() - before, inline === 0 ? 1 : 0, inline === 0 ? 'in the worker' : 'inline');
      check(d);
    }
  } finally {
    await pool.close();
  }
});

function check(d: DecodedBatch): void {
    assert.equal(d.count, 2);
    assert.deepEqual([...d.kind], [
      frameKind(probeKindOf('ICMPping')!.number, FrameRole.REQUEST),
      frameKind(probeKindOf('TCPsyn')!.number, FrameRole.REQUEST),
    ]);
    assert.deepEqual([d.id[0], d.seq[0], d.k2[1]], [0x1230, 7, 1234]);
}
