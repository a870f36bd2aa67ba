import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { aggregateFlowBytes, FlowAggregate, type FlowPartial } from '../../../src/checks/conntrack-flows.js';

// Compiled to dist/test/unit/checks/: the repository root is four levels up.
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/conntrack/', import.meta.url));
const fixture = (name: string): string => readFileSync(FIXTURES + name, 'latin1');

function aggregate(text: string): FlowAggregate {
  const agg = new FlowAggregate();
  agg.addText(text);
  return agg;
}

const top = (agg: FlowAggregate, side: 'sources' | 'destinations', key: 'flows' | 'bytes' | 'packets', n = 10): [string, number][] =>
  agg[side].top(key, n).map((r) => [r.address, r.value]);

void describe('conntrack -L parsing (captured output)', () => {
  void it('counts flows per original source and destination, IPv4 and IPv6, with accounting', () => {
    const agg = aggregate(fixture('list-acct.txt'));
    assert.equal(agg.flows, 8);
    assert.equal(agg.counted, 8);
    assert.equal(agg.malformed, 0);
    assert.deepEqual(top(agg, 'sources', 'flows'), [
      ['198.18.10.1', 4],
      ['2001:db8:10::1', 3],
      ['198.18.10.3', 1],
    ]);
    assert.deepEqual(top(agg, 'destinations', 'flows'), [
      ['198.18.10.2', 5],
      ['2001:db8:10::2', 3],
    ]);
    // bytes and packets of both directions: established TCP, ICMP echo, TIME_WAIT TCP, UDP
    assert.deepEqual(top(agg, 'sources', 'bytes', 1), [['198.18.10.1', 133948856 + 134119128 + 168 + 168 + 324 + 220 + 34 + 0]]);
    assert.deepEqual(top(agg, 'sources', 'packets'), [
      ['198.18.10.1', 11300 + 18409 + 2 + 2 + 6 + 4 + 1 + 0],
      ['2001:db8:10::1', 1 + 0 + 6 + 4 + 1 + 1],
      ['198.18.10.3', 6 + 4],
    ]);
    assert.equal(agg.sources.size, 3);
    assert.equal(agg.destinations.size, 2);
  });

  void it('takes the original direction under SNAT (the reply goes to the translated address)', () => {
    const agg = aggregate(fixture('list-acct-snat.txt'));
    assert.equal(agg.flows, 5);
    assert.deepEqual(top(agg, 'sources', 'flows'), [['198.18.10.1', 5]]);
    assert.deepEqual(top(agg, 'destinations', 'flows'), [['198.18.10.2', 5]]);
  });

  void it('without accounting: flows only, no bytes or packets', () => {
    const agg = aggregate(fixture('list-noacct.txt'));
    assert.equal(agg.flows, 4);
    assert.equal(agg.counted, 0);
    assert.deepEqual(top(agg, 'sources', 'flows'), [
      ['198.18.10.1', 2],
      ['2001:db8:10::1', 2],
    ]);
    assert.deepEqual(top(agg, 'sources', 'bytes'), []);
    assert.deepEqual(top(agg, 'destinations', 'packets'), []);
  });

  void it('counts malformed lines and never throws (truncated, foreign, bad address, bad counters, binary)', () => {
    const agg = aggregate(fixture('list-malformed.txt'));
    assert.equal(agg.flows, 2);
    assert.equal(agg.malformed, 7);
    assert.deepEqual(top(agg, 'sources', 'flows'), [
      ['198.18.10.1', 1],
      ['2001:db8:10::1', 1],
    ]);
    assert.deepEqual(top(agg, 'sources', 'bytes'), [['198.18.10.1', 544]]);
    const junk = ['', '\n\n', 'src=', ' src= dst= src=', ' src=1.2.3.4 dst=5.6.7.8 src=', ' src=256.1.1.1 dst=1.1.1.1 src=x', ' src=1.2.3 dst=1.1.1.1 src=x'];
    for (const line of junk) assert.doesNotThrow(() => aggregate(line));
    assert.equal(aggregate(' src=1.2.3.4 dst=5.6.7.8 src=').flows, 1);
    assert.equal(aggregate(' src=256.1.1.1 dst=1.1.1.1 src=x').malformed, 1);
    assert.equal(aggregate(' src=1.2.3 dst=1.1.1.1 src=x').malformed, 1);
  });

  void it('the worker entry (bytes, decoded piece by piece) agrees with line-by-line parsing across piece boundaries', () => {
    const text = fixture('list-acct.txt').repeat(400) + fixture('list-noacct.txt').repeat(300) + fixture('list-malformed.txt');
    assert.ok(text.length > 4 * 64 * 1024, 'spans several 64 KiB pieces');
    const sab = new SharedArrayBuffer(text.length + 16);
    const view = new Uint8Array(sab, 16, text.length);
    view.set(Buffer.from(text, 'latin1'));
    const partial = aggregateFlowBytes(view);
    const whole = aggregate(text);
    assert.equal(partial.flows, 400 * 8 + 300 * 4 + 2);
    assert.equal(partial.flows, whole.flows);
    assert.equal(partial.counted, whole.counted);
    assert.equal(partial.malformed, 7);
    const merged = new FlowAggregate();
    merged.merge(partial);
    assert.deepEqual(top(merged, 'sources', 'bytes'), top(whole, 'sources', 'bytes'));
    assert.deepEqual(top(merged, 'destinations', 'flows'), top(whole, 'destinations', 'flows'));
  });

  void it('merging partial results of split input equals aggregating it whole', () => {
    const lines = (fixture('list-acct.txt') + fixture('list-noacct.txt') + fixture('list-acct-snat.txt')).split('\n');
    const parts: FlowPartial[] = [0, 1, 2].map((k) => aggregateFlowBytes(Buffer.from(lines.filter((_, i) => i % 3 === k).join('\n'), 'latin1')));
    const merged = new FlowAggregate();
    for (const p of parts) merged.merge(p);
    const whole = aggregate(lines.join('\n'));
    assert.equal(merged.flows, whole.flows);
    assert.equal(merged.counted, whole.counted);
    for (const key of ['flows', 'bytes', 'packets'] as const) {
      assert.deepEqual(top(merged, 'sources', key), top(whole, 'sources', key));
      assert.deepEqual(top(merged, 'destinations', key), top(whole, 'destinations', key));
    }
    assert.equal(merged.topSourceShare(), whole.topSourceShare());
    assert.equal(whole.topSourceShare(), 11 / 17);
  });
});
