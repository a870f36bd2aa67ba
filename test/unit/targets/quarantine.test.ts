import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { parseConfig } from '../../../src/config/load.js';
import { Quarantine } from '../../../src/targets/quarantine.js';
import { memoryLogger } from '../../fakes/logger.js';

const { config } = parseConfig(
  'global: {probe_name: x, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}\ngroups: {g: {}}\ntargets:\n  a: {type: ICMPping, destination: 198.18.0.1}\n',
  'q.yaml',
);

void test('an entry that throws while built is quarantined once, stays out unchanged, and gets a new chance when changed', async () => {
  const registry = new Registry();
  const counter = new Counter({ name: 'wireprobe_targets_quarantined_total', help: 'h', labelNames: ['stage'], registers: [registry] });
  const { log, lines } = memoryLogger();
  const q = new Quarantine({ log, counter });
  const a = config.targets.a!;
  let builds = 0;
  const failing = (): string => {
    builds++;
    throw new RangeError('cannot build');
  };
  assert.equal(q.guard(a, failing), null);
  assert.equal(q.guard(a, failing), null);
  assert.equal(builds, 1, 'the same entry is not built again');
  assert.ok(q.held(a));
  assert.equal(lines.filter((l) => l.includes('target quarantined') && l.includes('cannot build') && l.includes('stage=build')).length, 1);
  const changed = { ...a, nb_packets: 2 };
  assert.equal(q.guard(changed, () => 'built'), 'built', 'a changed entry is built');
  assert.ok(!q.held(a) && !q.held(changed));
  q.add(a, 'run', new Error('boom'));
  q.keepOnly(new Set(['other']));
  assert.ok(!q.held(a), 'forgotten once gone from the target set');
  const values = (await counter.get()).values.map((v) => [v.labels.stage, v.value]).sort();
  assert.deepEqual(values, [['build', 1], ['run', 1]]);
});
