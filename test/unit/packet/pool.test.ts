import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEchoTemplate } from '../../../src/packet/icmp.js';
import { PacketSlab, SLAB_BYTES } from '../../../src/packet/pool.js';

const v4 = { family: 4 as const, src: new Uint8Array(4), dst: Uint8Array.of(198, 18, 0, 1), tos: 0, ttl: 64, dontFragment: true };

void test('templates are zeroed views of shared slabs that never overlap; a large one has its own buffer', () => {
  const { alloc } = new PacketSlab();
  const views = Array.from({ length: 2000 }, (_, i) => alloc(20 + (i % 13)));
  const slabs = new Set(views.map((b) => b.buffer));
  assert.ok(slabs.size < 10 && slabs.size >= Math.ceil((2000 * 32) / SLAB_BYTES), `${slabs.size} slabs`);
  for (const b of views) {
    assert.ok(b.every((x) => x === 0));
    b.fill(0xff);
  }
  const bySlab = new Map<ArrayBufferLike, [number, number][]>();
  for (const b of views) bySlab.set(b.buffer, [...(bySlab.get(b.buffer) ?? []), [b.byteOffset, b.byteOffset + b.length]]);
  for (const spans of bySlab.values()) {
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], 'overlapping templates');
  }
  const big = alloc(1500);
  assert.equal(big.byteOffset, 0);
  assert.equal(big.buffer.byteLength, 1500);
});

void test('two slabs never share bytes', () => {
  const a = new PacketSlab().alloc(40);
  const b = new PacketSlab().alloc(40);
  assert.notEqual(a.buffer, b.buffer);
});

void test('two echo templates in one slab keep their own bytes; without a slab each has its own buffer', () => {
  const { alloc } = new PacketSlab();
  const a = createEchoTemplate({ ...v4, ipPayloadSize: 8, alloc });
  const b = createEchoTemplate({ ...v4, ipPayloadSize: 8, dst: Uint8Array.of(198, 18, 0, 2), alloc });
  a.stamp(1, 1);
  b.stamp(2, 2);
  assert.equal(a.bytes.buffer, b.bytes.buffer);
  assert.deepEqual([a.bytes[19], a.bytes[25], a.bytes[27]], [1, 1, 1]);
  assert.deepEqual([b.bytes[19], b.bytes[25], b.bytes[27]], [2, 2, 2]);
  const own = createEchoTemplate({ ...v4, ipPayloadSize: 8 });
  assert.equal(own.bytes.buffer.byteLength, own.bytes.length);
});
