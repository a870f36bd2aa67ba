import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';
import { createCatalog, DEFAULT_RTT_BUCKETS } from '../../../src/metrics/catalog.js';
import { FastRegistry } from '../../../src/metrics/fast.js';
import { TaskRecorder } from '../../../src/metrics/record.js';
import { taskRowLabels } from '../../../src/metrics/task-table.js';
import { probeKinds } from '../../../src/probes/index.js';
import { percentile } from '../../../src/stats/percentile.js';
import { Registry } from 'prom-client';

const schema = JSON.parse(readFileSync(new URL('../../../../schema/config.schema.json', import.meta.url), 'utf8')) as {
  $defs: { global: { properties: Record<string, { default?: unknown }> } };
};

const yaml = (extra: string): string =>
  `global: { probe_name: p, interval: 10, nb_proc: 1, logging_level: INFO, prometheus_port: 9100${extra} }\ngroups: {}\ntargets: {}\n`;

function problem(extra: string): string {
  try {
    parseConfig(yaml(extra), 'b.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error(`accepted: ${extra}`);
}

void test('global.rtt_buckets: the schema default is DEFAULT_RTT_BUCKETS; a list replaces it', () => {
  assert.deepEqual(schema.$defs.global.properties.rtt_buckets!.default, DEFAULT_RTT_BUCKETS);
  assert.deepEqual(parseConfig(yaml(''), 'a.yaml').config.global.rtt_buckets, DEFAULT_RTT_BUCKETS);
  assert.deepEqual(parseConfig(yaml(', rtt_buckets: [0.001, 0.01, 0.1]'), 'a.yaml').config.global.rtt_buckets, [0.001, 0.01, 0.1]);
  assert.deepEqual(parseConfig(yaml(', rtt_buckets: []'), 'a.yaml').config.global.rtt_buckets, []);
});

void test('global.rtt_buckets: bounds must be positive, bounded, strictly ascending, at most 50', () => {
  assert.match(problem(', rtt_buckets: [0.001, 0.01, 0.01]'), /global\.rtt_buckets\[2\]: must be greater than the bucket before it \(0\.01\)/);
  assert.match(problem(', rtt_buckets: [0.1, 0.01]'), /global\.rtt_buckets\[1\]: must be greater than the bucket before it \(0\.1\)/);
  assert.match(problem(', rtt_buckets: [0, 1]'), /global\.rtt_buckets\[0\]: must be > 0/);
  assert.match(problem(', rtt_buckets: [1, 3601]'), /global\.rtt_buckets\[1\]: must be <= 3600/);
  assert.match(problem(', rtt_buckets: [fast]'), /global\.rtt_buckets\[0\]: must be a number/);
  const many = Array.from({ length: 51 }, (_, i) => (i + 1) / 1000).join(', ');
  assert.match(problem(`, rtt_buckets: [${many}]`), /global\.rtt_buckets/);
});

void test('the catalog exposes the configured buckets, +Inf added', () => {
  const fast = new FastRegistry();
  const catalog = createCatalog(probeKinds.map((k) => k.metrics), new Registry(), fast, [0.001, 0.5]);
  const labels = taskRowLabels({ probe_name: 'p', destination: 'd', address_family: 'ipv4', state: 'None', group: 'g' });
  const r = new TaskRecorder(catalog.probes.icmp!, catalog, labels, [50], percentile, 0);
  r.record({ sent: 2, lost: 0, indeterminate: 0, sendErrors: 0, icmpErrors: 0, rtts: Float64Array.of(0.0002, 0.7), rttCount: 2, endWallMs: 0, perProbe: null });
  let text = '';
  fast.expose((c) => (text += c));
  const buckets = text.split('\n').filter((l) => l.startsWith('icmp_rtt_seconds_bucket{'));
  assert.deepEqual(buckets.map((l) => l.replace(/^.*,le="/, 'le="')), ['le="0.001"} 1', 'le="0.5"} 1', 'le="+Inf"} 2']);
});
