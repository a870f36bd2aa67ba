import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { evaluate, lifetimeOf, mergePatch, NAME_PATTERN, nameProblems } from '../../../src/api/validate.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ApiConfig } from '../../../src/config/types.js';

const SCHEMA = JSON.parse(readFileSync(new URL('../../../../schema/config.schema.json', import.meta.url), 'utf8')) as {
  $defs: { name: { pattern: string } };
};

void test('NAME_PATTERN accepts exactly what the config schema name pattern accepts', () => {
  const schema = new RegExp(SCHEMA.$defs.name.pattern);
  const samples = ['a', 'web-1.example_2', 'A', 'a b', 'a/b', 'é', '', '..', 'a\u0000', '-', 'x'.repeat(300)];
  for (let c = 0; c < 0x250; c++) samples.push(`a${String.fromCharCode(c)}`);
  for (const s of samples) assert.equal(NAME_PATTERN.test(s), schema.test(s), JSON.stringify(s));
});

void test('names: type, length, characters', () => {
  assert.deepEqual(nameProblems('web1'), []);
  for (const bad of [1, null, '', 'x'.repeat(129), 'Web', 'wé', '__proto__', 'constructor', '.', '..']) assert.equal(nameProblems(bad).length, 1, JSON.stringify(bad));
});

const API: ApiConfig = {
  enabled: true,
  tokens: [],
  max_targets: 10,
  state_file: null,
  body_limit_bytes: 65536,
  default_lifetime: 60,
  max_lifetime: 600,
  default_groups: null,
};

void test('lifetimes: default, limits, and 0 only without a maximum', () => {
  assert.deepEqual(lifetimeOf(undefined, API), { seconds: 60 });
  assert.deepEqual(lifetimeOf(600, API), { seconds: 600 });
  for (const bad of [0, 601, -1, 1.5, '60', null]) assert.ok(!('seconds' in lifetimeOf(bad, API)), JSON.stringify(bad));
  const open = { ...API, default_lifetime: 0, max_lifetime: 0 };
  assert.deepEqual(lifetimeOf(0, open), { seconds: 0 });
  assert.deepEqual(lifetimeOf(315_360_000, open), { seconds: 315_360_000 });
  assert.ok(!('seconds' in lifetimeOf(315_360_001, open)));
});

void test('JSON merge patch: RFC 7386 appendix A examples', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of cases) assert.deepEqual(mergePatch(target, patch), result);
});

void test('default_groups apply to entries without explicit_groups only', () => {
  const { config } = parseConfig(
    ['global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}', 'groups: {g1: {}, g2: {permit_target_auto_register: false}}'].join('\n'),
    'v.yaml',
  );
  const record = (entry: Record<string, unknown>) => ({ name: 't', entry, createdMs: 0, updatedMs: 0, expiresMs: null });
  const api = { ...API, default_groups: ['g2'] };
  const plain = evaluate(record({ type: 'ICMPping', destination: '198.18.0.1' }), config, api);
  assert.ok(plain.ok);
  assert.deepEqual(plain.groups, ['g2']);
  const auto = evaluate(record({ type: 'ICMPping', destination: '198.18.0.1', auto_register_to_groups: true }), config, api);
  assert.ok(auto.ok);
  assert.deepEqual(auto.groups, ['g1', 'g2']);
  const own = evaluate(record({ type: 'ICMPping', destination: '198.18.0.1', explicit_groups: { exclude_from: ['g1'] } }), config, api);
  assert.ok(!own.ok, 'explicit groups that leave no group are refused');
  assert.deepEqual(own.problems, [{ path: '', message: 'belongs to no group; it would not be probed' }]);
  assert.ok(evaluate(record({ type: 'ICMPping', destination: '198.18.0.1' }), config, API).ok, 'without default_groups: file rules');
});
