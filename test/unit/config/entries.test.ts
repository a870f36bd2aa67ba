import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateTargetEntry } from '../../../src/config/entries.js';
import { parseConfig } from '../../../src/config/load.js';

const { config } = parseConfig(
  ['global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}', 'groups:', '  g1: {}', '  g2: {permit_target_auto_register: false}'].join('\n'),
  'base.yaml',
);

void test('a good entry gets the defaults of the file format', () => {
  const r = validateTargetEntry('web1', { type: 'TCPsyn', destination: '198.19.0.1', dst_port: 443 }, config);
  assert.ok(r.ok);
  assert.equal(r.target.name, 'web1');
  assert.equal(r.target.nb_packets, 1);
  assert.equal(r.target.address_family, 'ipv4');
  assert.equal(r.target.dst_port, 443);
});

void test('bad entries get every problem with its key path, and never throw', () => {
  const r = validateTargetEntry('web1', { type: 'TCPsyn', destination: 'a..b', nb_packets: 'x' }, config);
  assert.ok(!r.ok);
  assert.deepEqual(r.problems.map((p) => p.path).sort(), ['', 'destination', 'nb_packets'].sort());
  for (const hostile of [null, 42, 'x', [], { __proto__: { type: 'ICMPping' } }, JSON.parse('{"__proto__": {"x": 1}, "type": "ICMPping", "destination": "198.19.0.1"}')]) {
    const h = validateTargetEntry('t', hostile, config);
    assert.ok(!h.ok, JSON.stringify(hostile));
  }
});

void test('the caller keeps its input unchanged', () => {
  const entry = { type: 'ICMPping', destination: '198.19.0.1' };
  validateTargetEntry('t', entry, config);
  assert.deepEqual(entry, { type: 'ICMPping', destination: '198.19.0.1' });
});
