import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tcpSynProbe } from '../../../src/probes/tcp-syn.js';
import { TargetSeries } from '../../../src/metrics/target-series.js';
import { createTask } from '../../../src/targets/tasks.js';
import { FakeClock } from '../../fakes/clock.js';
import { catalog, configOf, seriesLines, valueOf } from '../targets/fixtures.js';

const c = configOf({ a: '{}', b: '{}' }, {
  web: '{type: TCPsyn, destination: 198.18.0.1, dst_port: 80, threshold: {loss: 0.1, latency: 0.5}, alert_level: paging}',
});
const L3 = 'probe_name="lab",destination="web",address_family="ipv4"';

function setup() {
  const cat = catalog();
  const series = new TargetSeries({ catalog: cat, clock: new FakeClock(), probeName: 'lab', percentiles: [95, 50] }, c.targets.web!, tcpSynProbe);
  return { cat, series };
}

void test('prime: resolution change (0), its creation time and the diagnostic counts of the type', () => {
  const { cat, series } = setup();
  series.prime();
  assert.deepEqual(seriesLines(cat).map((l) => l.slice(0, l.indexOf('{'))).sort(), [
    'app_host_resolution_change_created', 'app_host_resolution_change_total', 'tcpsyn_match_ack_fail_count', 'tcpsyn_port_mismatch_count',
  ]);
  assert.equal(valueOf(cat, `app_host_resolution_change_created{${L3}}`), 1_700_000_000);
});

void test('resolution status and changes; thresholds per group, replaced as a whole', () => {
  const { cat, series } = setup();
  series.resolved(true);
  series.resolved(false);
  assert.deepEqual([valueOf(cat, `app_host_resolution_status{${L3}}`), valueOf(cat, `app_host_resolution_change_total{${L3}}`)], [1, 1]);
  series.unresolved();
  assert.equal(valueOf(cat, `app_host_resolution_status{${L3}}`), 0);
  series.setThresholds([c.groups.a!, c.groups.b!]);
  assert.equal(seriesLines(cat).filter((l) => l.startsWith('threshold{')).length, 4);
  series.setThresholds([c.groups.b!]);
  const th = seriesLines(cat).filter((l) => l.startsWith('threshold{'));
  assert.equal(th.length, 2);
  assert.ok(th.every((l) => l.includes('group="b"') && l.includes('alert_level="paging"')));
});

void test('attach and detach: a task\'s series exist exactly while it is active', () => {
  const { cat, series } = setup();
  const task = createTask(c.targets.web!, c.groups.a!, 4);
  series.attach(task);
  const recorder = task.recorder;
  series.attach(task);
  assert.equal(task.recorder, recorder, 'kept while active');
  assert.equal(task.hostRecorder, null, 'no per_host_metrics');
  assert.ok(seriesLines(cat).some((l) => l.startsWith('tcpsyn_sent_total{') && l.includes('group="a"')));
  series.detach(task);
  assert.equal(task.recorder, null);
  assert.deepEqual(seriesLines(cat), []);
});

void test('unmatched answers count for the reasons of the type only; remove() leaves nothing', () => {
  const { cat, series } = setup();
  series.prime();
  series.resolved(true);
  series.setThresholds([c.groups.a!]);
  series.countUnmatched('tcp_ack');
  series.countUnmatched('tcp_ack');
  series.countUnmatched('udp_port');
  assert.equal(valueOf(cat, `tcpsyn_match_ack_fail_count{${L3}}`), 2);
  assert.equal(valueOf(cat, `udp_unreachable_port_mismatch_count{${L3}}`), undefined);
  series.remove();
  assert.deepEqual(seriesLines(cat), []);
});

