import assert from 'node:assert/strict';
import { test } from 'node:test';
import { internData } from '../../../src/lib/intern.js';

void test('a structured clone comes back with its repeated strings and leaf objects shared, its values unchanged', () => {
  const entry = (name: string) => ({ name, group: 'core-routers', threshold: { loss: 0.1 }, groups: { register_to: ['a', 'b'], exclude_from: [] }, size: 8, none: null });
  const input = { targets: { t1: entry('t1'), t2: entry('t2'), t3: { ...entry('t3'), threshold: { loss: 0.2 } } } };
  const data = internData(structuredClone(input));
  assert.deepEqual(data, input);
  const { t1, t2, t3 } = data.targets;
  assert.equal(t1.threshold, t2.threshold, 'equal thresholds: one object');
  assert.notEqual(t1.threshold, t3.threshold, 'different ones stay apart');
  assert.equal(t1.groups, t3.groups, 'equal nested leaves: one object');
  assert.notEqual(t1, t2, 'entries with objects inside are not merged');
});

void test('only plain objects and arrays of JSON scalars are merged: -0, NaN, undefined, Maps and typed arrays stay apart', () => {
  const data = internData({
    a: { x: 0 }, b: { x: -0 }, c: { x: NaN }, d: { x: NaN }, e: { x: undefined }, f: { x: undefined },
    g: new Map([[1, 2]]), h: new Map(), i: {}, j: new Uint8Array(2), k: new Uint8Array(2),
  });
  assert.ok(Object.is(data.b.x, -0));
  assert.notEqual(data.a, data.b);
  assert.notEqual(data.c, data.d);
  assert.notEqual(data.e, data.f);
  assert.ok(data.g instanceof Map && data.h instanceof Map && data.g.size === 1);
  assert.notEqual(data.h, data.i);
  assert.notEqual(data.j, data.k);
});
