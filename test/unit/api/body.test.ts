import assert from 'node:assert/strict';
import { test } from 'node:test';
import { charsetOf, inspectJson, MAX_DEPTH } from '../../../src/api/body.js';

void test('depth of parsed JSON, without recursion, capped past the limit', () => {
  assert.equal(inspectJson(1, MAX_DEPTH).depth, 0);
  assert.equal(inspectJson({}, MAX_DEPTH).depth, 1);
  assert.equal(inspectJson({ a: { b: [1, { c: 2 }] } }, MAX_DEPTH).depth, 4);
  const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
  assert.equal(inspectJson(deep, MAX_DEPTH).depth, MAX_DEPTH + 1);
  const wide = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, [i]]));
  assert.equal(inspectJson(wide, MAX_DEPTH).depth, 2);
});

void test('prototype keys are found at any depth, with their paths', () => {
  const value = JSON.parse('{"a": {"__proto__": {"x": 1}}, "b": [{"constructor": 1}], "prototype": 2, "ok": {"proto": 1}}') as unknown;
  assert.deepEqual(
    inspectJson(value, MAX_DEPTH).forbidden.map((p) => p.path).sort(),
    ['a.__proto__', 'b[0].constructor', 'prototype'],
  );
  assert.deepEqual(inspectJson({ type: 'ICMPping', explicit_groups: { register_to: ['g'] } }, MAX_DEPTH).forbidden, []);
});

void test('charsetOf reads the charset parameter, lowercased and unquoted', () => {
  assert.equal(charsetOf(undefined), null);
  assert.equal(charsetOf('application/json'), null);
  assert.equal(charsetOf('application/json; charset=UTF-8'), 'utf-8');
  assert.equal(charsetOf('application/json;charset="utf-16"'), 'utf-16');
  assert.equal(charsetOf('application/json; foo=bar; Charset = latin1 '), 'latin1');
  assert.equal(charsetOf('application/json; charset='), '');
});
