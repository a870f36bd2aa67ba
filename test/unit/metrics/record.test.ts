import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeKinds } from '../../../src/probes/index.js';
import { createCatalog, DEFAULT_RTT_BUCKETS, FINE_RTT_BUCKETS } from '../../../src/metrics/catalog.js';
import { ByteBuffers } from '../../../src/metrics/fast.js';
import { TaskRecorder } from '../../../src/metrics/record.js';
import { taskRowLabels } from '../../../src/metrics/task-table.js';
import type { RoundResult } from '../../../src/scheduler/round.js';
import { percentile } from '../../../src/stats/percentile.js';

function exposition(catalog: ReturnType<typeof createCatalog>): string {
  let out = '';
  catalog.fast.expose((c) => (out += c));
  return out;
}

const labels = (destination: string, group = 'g1') =>
  taskRowLabels({
    probe_name: 'lab',
    destination,
    address_family: 'ipv4',
    state: 'None',
    group,
  });

const round = (rtts: number[], lost: number): RoundResult => ({
  sent: rtts.length + lost,
  lost,
  indeterminate: 0,
  sendErrors: 0,
  icmpErrors: 0,
  rtts: Float64Array.from(rtts),
  rttCount: rtts.length,
  endWallMs: 1_700_000_000_500,
  perProbe: null,
});

void test('netprobify names, labels and label formatting for one round', () => {
  const catalog = createCatalog(probeKinds.map((k) => k.metrics));
  const r = new TaskRecorder(catalog.probes.icmp!, catalog, labels('web1'), [95, 50], percentile, 1_700_000_000_000);
  const lbl = 'probe_name="lab",destination="web1",address_family="ipv4",state="None",group="g1"';
  // before any round: counters exist at 0; ratio and percentiles do not exist yet
  let text = exposition(catalog);
  assert.match(text, new RegExp(`^icmp_sent_total\\{${lbl}\\} 0$`, 'm'));
  assert.doesNotMatch(text, /^icmp_loss_ratio\{/m);
  assert.doesNotMatch(text, /^icmp_round_trip_seconds\{/m);
  r.record(round([0.001, 0.002, 0.003], 1));
  text = exposition(catalog);
  for (const line of [
    `icmp_sent_total{${lbl}} 4`,
    `icmp_loss_total{${lbl}} 1`,
    `icmp_loss_ratio{${lbl}} 0.25`,
    `icmp_round_trip_seconds{${lbl},percentile="95"} 0.0029`,
    `icmp_round_trip_seconds{${lbl},percentile="50"} 0.002`,
    `icmp_sent_created{${lbl}} 1700000000`,
    `icmp_last_success_timestamp_seconds{${lbl}} 1700000000.5`,
    `icmp_rtt_seconds_bucket{${lbl},le="0.001"} 1`,
    `icmp_rtt_seconds_bucket{${lbl},le="+Inf"} 3`,
    `icmp_rtt_seconds_count{${lbl}} 3`,
    `app_time_ooo_total{probe_name="lab",destination="web1",address_family="ipv4",group="g1"} 0`,
  ]) {
    assert.ok(text.split('\n').includes(line), `missing: ${line}`);
  }
  assert.match(text, /^# TYPE icmp_sent_total counter$/m);
  assert.match(text, /^# TYPE icmp_rtt_seconds histogram$/m);
  assert.equal(FINE_RTT_BUCKETS.length, 19);
  assert.equal(FINE_RTT_BUCKETS[0], 0.00001);
  assert.equal(FINE_RTT_BUCKETS.at(-1), 10);
  assert.equal(DEFAULT_RTT_BUCKETS.length, 10);
});

void test('a round where nothing answered reports NaN latency, not 0, and keeps last success', () => {
  const catalog = createCatalog(probeKinds.map((k) => k.metrics));
  const r = new TaskRecorder(catalog.probes.icmp!, catalog, labels('dead'), [95], percentile, 0);
  r.record(round([], 3));
  const text = exposition(catalog);
  assert.match(text, /^icmp_round_trip_seconds\{[^}]*percentile="95"\} NaN$/m);
  assert.match(text, /^icmp_loss_ratio\{[^}]*\} 1$/m);
  assert.match(text, /^icmp_last_success_timestamp_seconds\{[^}]*\} 0$/m);
});

void test('removal deletes exactly the series of that (target, group), never by substring', () => {
  const catalog = createCatalog(probeKinds.map((k) => k.metrics));
  const a = new TaskRecorder(catalog.probes.icmp!, catalog, labels('pe01'), [50], percentile, 0);
  const b = new TaskRecorder(catalog.probes.icmp!, catalog, labels('inv_pe01.paris'), [50], percentile, 0);
  const c = new TaskRecorder(catalog.probes.icmp!, catalog, labels('pe01', 'g2'), [50], percentile, 0);
  for (const x of [a, b, c]) x.record(round([0.001], 0));
  a.remove();
  const text = exposition(catalog);
  assert.doesNotMatch(text, /destination="pe01",address_family="ipv4",state="None",group="g1"/);
  assert.match(text, /destination="inv_pe01.paris"/);
  assert.match(text, /destination="pe01",address_family="ipv4",state="None",group="g2"/);
});

void test('groups of one target are accounted separately', () => {
  const catalog = createCatalog(probeKinds.map((k) => k.metrics));
  const g1 = new TaskRecorder(catalog.probes.icmp!, catalog, labels('t', 'g1'), [50], percentile, 0);
  const g2 = new TaskRecorder(catalog.probes.icmp!, catalog, labels('t', 'g2'), [50], percentile, 0);
  g1.record(round([0.001, 0.001], 0));
  g2.record(round([0.005], 1));
  const text = exposition(catalog);
  assert.match(text, /^icmp_sent_total\{[^}]*group="g1"\} 2$/m);
  assert.match(text, /^icmp_sent_total\{[^}]*group="g2"\} 2$/m);
  assert.match(text, /^icmp_loss_total\{[^}]*group="g1"\} 0$/m);
  assert.match(text, /^icmp_loss_total\{[^}]*group="g2"\} 1$/m);
});

void test('the encoded exposition is the UTF-8 of the text (some help texts are not ASCII)', () => {
  const catalog = createCatalog(probeKinds.map((k) => k.metrics));
  for (const kind of ['icmp', 'tcpsyn', 'udp_unreachable']) {
    const r = new TaskRecorder(catalog.probes[kind]!, catalog, labels('web1'), [95, 50], percentile, 1_700_000_000_000);
    r.record(round([0.001, 0.002], 1));
  }
  const text = exposition(catalog);
  assert.ok(text.includes('administratively prohibited, …'));
  assert.equal(Buffer.concat([...catalog.fast.encoded(new ByteBuffers(64 * 1024, 2))]).toString('utf8'), text);
});
