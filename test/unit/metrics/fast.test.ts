import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBuffers, CHUNK, FastFamily, FastHistogram, FastRegistry, formatValue, labelSet } from '../../../src/metrics/fast.js';

const L = ['a', 'b'] as const;

function text(r: FastRegistry): string {
  let out = '';
  r.expose((c) => (out += c));
  return out;
}

void test('counters and gauges render once-rendered, escaped label sets', () => {
  const r = new FastRegistry();
  const c = new FastFamily(r, 'counter', 'x_total', 'a "counter"\nwith help', L);
  const ls = labelSet(L, { a: 'q"uo\\te', b: 'line\nbreak' });
  c.child(ls).value += 3;
  assert.equal(
    text(r),
    '# HELP x_total a "counter"\\nwith help\n# TYPE x_total counter\n' +
      'x_total{a="q\\"uo\\\\te",b="line\\nbreak"} 3\n',
  );
  c.remove(ls);
  assert.equal(text(r), '# HELP x_total a "counter"\\nwith help\n# TYPE x_total counter\n');
});

void test('histograms are cumulative with +Inf, _sum and _count', () => {
  const r = new FastRegistry();
  const h = new FastHistogram(r, 'rtt_seconds', 'rtt', L, [0.001, 0.01]);
  const s = h.child(labelSet(L, { a: '1', b: '2' }));
  for (const v of [0.0005, 0.001, 0.002, 5]) h.observe(s, v);
  assert.equal(
    text(r),
    '# HELP rtt_seconds rtt\n# TYPE rtt_seconds histogram\n' +
      'rtt_seconds_bucket{a="1",b="2",le="0.001"} 2\n' +
      'rtt_seconds_bucket{a="1",b="2",le="0.01"} 3\n' +
      'rtt_seconds_bucket{a="1",b="2",le="+Inf"} 4\n' +
      'rtt_seconds_sum{a="1",b="2"} 5.0035\n' +
      'rtt_seconds_count{a="1",b="2"} 4\n',
  );
});

void test('special values, label-set checks and duplicate names', () => {
  assert.deepEqual([NaN, Infinity, -Infinity, 0.25].map(formatValue), ['NaN', '+Inf', '-Inf', '0.25']);
  const r = new FastRegistry();
  const g = new FastFamily(r, 'gauge', 'g', 'h', L);
  assert.throws(() => g.child(labelSet(['a', 'b'] as const, { a: '', b: '' })), /other label names/);
  assert.throws(() => new FastFamily(r, 'gauge', 'g', 'h', L), /registered twice/);
});

void test('a large exposition is handed over in bounded chunks', () => {
  const r = new FastRegistry();
  const g = new FastFamily(r, 'gauge', 'g', 'h', L);
  for (let i = 0; i < 20_000; i++) g.child(labelSet(L, { a: `target-${i}`, b: 'group' })).value = i;
  const chunks: string[] = [];
  r.expose((c) => chunks.push(c));
  assert.ok(chunks.length > 1);
  assert.ok(chunks.every((c) => c.length < CHUNK + 1024));
  assert.equal(chunks.join('').split('\n').length, 20_000 + 3);
});

void test('encoded chunks are the UTF-8 of the text, ASCII families copied as latin1', () => {
  const r = new FastRegistry();
  const g = new FastFamily(r, 'gauge', 'g', 'h', L);
  const c = new FastFamily(r, 'counter', 'c_total', 'h', L);
  const ascii = labelSet(L, { a: 'plain', b: 'x' });
  const latin = labelSet(L, { a: 'café', b: 'x' });
  const wide = labelSet(L, { a: '東京-1', b: '\u{1F600}' });
  assert.deepEqual([ascii.ascii, latin.ascii, wide.ascii], [true, false, false]);
  g.child(ascii).value = 1;
  c.child(ascii).value = 2;
  c.child(latin).value = 3;
  c.child(wide).value = 4;
  assert.deepEqual([g.ascii, c.ascii], [true, false]);
  const bytes = (): Buffer => Buffer.concat([...r.encoded(new ByteBuffers(4096, 2))]);
  assert.equal(bytes().toString('utf8'), text(r));
  assert.ok(text(r).includes('a="café"') && text(r).includes('a="東京-1"'));
  c.remove(latin);
  assert.equal(c.ascii, false, 'one non-ASCII series left');
  c.remove(wide);
  c.remove(wide);
  assert.equal(c.ascii, true);
  assert.equal(bytes().toString('utf8'), text(r));
  const h = new FastFamily(r, 'gauge', 'h', 'help with an ellipsis …', L);
  h.child(ascii).value = 5;
  assert.equal(h.ascii, false, 'the help text counts');
  assert.equal(bytes().toString('utf8'), text(r));
});

void test('encoded text is packed into pooled buffers, reused once given back, with larger chunks on their own', () => {
  const r = new FastRegistry();
  const big = new FastFamily(r, 'gauge', 'big', 'h', L);
  for (let i = 0; i < 5_000; i++) big.child(labelSet(L, { a: `target-${i}`, b: 'group' })).value = i;
  for (let f = 0; f < 100; f++) {
    const small = new FastFamily(r, 'counter', `small_${f}_total`, f % 2 === 0 ? 'help' : 'help with an ellipsis …', L);
    for (let i = 0; i < 3; i++) small.child(labelSet(L, { a: `zürich-${i}`, b: 'x' })).value = i;
  }
  const pool = new ByteBuffers(4096, 2);
  const buffers = new Set<ArrayBufferLike>();
  const parts: Buffer[] = [];
  for (const b of r.encoded(pool)) {
    parts.push(Buffer.from(b));
    if (b.length <= pool.size) buffers.add(b.buffer);
    pool.release(b);
  }
  assert.equal(Buffer.concat(parts).toString('utf8'), text(r));
  assert.ok(parts.filter((p) => p.length > pool.size).length > 1, 'chunks larger than a buffer come on their own');
  const packed = parts.filter((p) => p.length <= pool.size).length;
  assert.ok(packed > 1 && packed < 20, `the 100 small families are packed into a few buffers (${packed})`);
  assert.equal(buffers.size, 1, 'a given-back buffer is reused');
  const held = [...r.encoded(pool)];
  assert.equal(new Set(held.map((b) => b.buffer)).size, held.length, 'buffers not given back are not reused');
  assert.equal(Buffer.concat(held).toString('utf8'), text(r));
});
