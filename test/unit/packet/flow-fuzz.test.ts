import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzFlowDecoder } from '../../fakes/flow-fuzz.js';

void test('flow decoder fuzz: 20 000 mutated datagrams, nothing escapes decode(), malformed ones are counted', () => {
  const r = fuzzFlowDecoder(20_000, 0x5eed);
  assert.equal(r.throws, 0, r.firstThrow ?? '');
  assert.ok(r.errors > 5000, `errors counted: ${r.errors}`);
  assert.ok(r.flows > 1000, `flows decoded: ${r.flows}`);
});
