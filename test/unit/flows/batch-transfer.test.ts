import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyFlowBatch } from '../../../src/flows/store/batch-transfer.js';
import { flowBatchBuffers } from '../../../src/packet/flow/batch.js';
import type { FlowBatch } from '../../../src/packet/flow/types.js';
import { syntheticBatch } from '../../fakes/flow-batch.js';

void test('flowBatchBuffers names each distinct buffer once and skips shared memory', () => {
  const b = syntheticBatch(10, 1, 0, 1000);
  assert.equal(flowBatchBuffers(b).length, 22);
  const one = new ArrayBuffer(4096);
  const shared: FlowBatch = { ...b, src: new Uint8Array(one, 0, 160), dst: new Uint8Array(one, 160, 160), nextHop: new Uint8Array(new SharedArrayBuffer(160)) };
  const list = flowBatchBuffers(shared);
  assert.equal(list.length, 20);
  assert.equal(list.filter((x) => x === one).length, 1);
});

void test('copyFlowBatch owns its buffers: a transfer of the original leaves the copy intact', () => {
  const b = syntheticBatch(10, 2, 0, 1000);
  const c = copyFlowBatch(b);
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(b, flowBatchBuffers(b));
  port1.close();
  port2.close();
  assert.equal(b.src.length, 0, 'transferred: detached');
  assert.equal(c.src.length, 160);
  assert.equal(c.count, 10);
});
