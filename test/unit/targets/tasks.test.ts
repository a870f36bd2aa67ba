import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoundResult } from '../../../src/scheduler/round.js';
import { FIRST_ROWS, RoundSummaries } from '../../../src/targets/summaries.js';
import { createTask, type TargetTask } from '../../../src/targets/tasks.js';
import { configOf } from './fixtures.js';

const c = configOf(
  { plain: '{}', pooled: '{src_subnet_ipv4: 198.18.8.0/29}' },
  { web: '{type: TCPsyn, destination: 198.18.0.0/30, is_subnet: true, dst_port: 80, nb_packets: 7, timeout: 2, per_host_metrics: true}' },
);

void test('a task per (target, group): key, packets, timeout, port round robin from the range start, no probes, no recorders', () => {
  const task = createTask(c.targets.web!, c.groups.plain!, 4, new RoundSummaries());
  assert.deepEqual(
    [task.key, task.nbPackets, task.timeoutS, task.perProbe, task.probes, task.rotation.sources, task.recorder, task.hostRecorder],
    ['web\u0000plain', 7, 2, true, [], null, null, null],
  );
  const { src_port_a: a, src_port_z: z } = c.groups.plain!;
  const ports = Array.from({ length: z - a + 2 }, () => task.rotation.nextPort());
  assert.deepEqual([ports[0], ports[1], ports.at(-2), ports.at(-1)], [a, a + 1, z, a], 'the whole range, then again');
});

void test('a failing task tells its owner', () => {
  const failed: unknown[] = [];
  const task = createTask(c.targets.web!, c.groups.plain!, 4, new RoundSummaries(), { taskFailed: (t, e) => failed.push(t === task, e) });
  task.onFailure(new Error('x'));
  assert.deepEqual(failed, [true, new Error('x')]);
});

void test('the group subnet of the target family is the source round robin', () => {
  assert.equal(createTask(c.targets.web!, c.groups.pooled!, 4, new RoundSummaries()).rotation.sources?.count, 7);
  assert.equal(createTask(c.targets.web!, c.groups.pooled!, 6, new RoundSummaries()).rotation.sources, null);
});

void test('rounds go to the recorders the task has at the time', () => {
  const task = createTask(c.targets.web!, c.groups.plain!, 4, new RoundSummaries());
  const seen: string[] = [];
  const round = { sent: 1, lost: 0, icmpErrors: 0, rtts: new Float64Array(1), rttCount: 0, endWallMs: 0 } as RoundResult;
  task.onRound(round);
  task.recorder = { record: (r: RoundResult) => seen.push(`task ${r.sent}`) } as unknown as typeof task.recorder;
  task.hostRecorder = { record: (r: RoundResult) => seen.push(`host ${r.sent}`) } as unknown as typeof task.hostRecorder;
  task.onRound(round);
  assert.deepEqual(seen, ['task 1', 'host 1']);
});

/** a task's last round, read as the status page does (a getter: each read is a copy of its row) */
const lastOf = (task: TargetTask) => task.last;

void test('each round leaves its summary for the status page: loss, RTT p50/p95/max, last success carried over', () => {
  const summaries = new RoundSummaries();
  const task = createTask(c.targets.web!, c.groups.plain!, 4, summaries);
  assert.equal(task.last, null);
  const rtts = new Float64Array([0.01, 0.02, 0.03, 0.04, 0]);
  task.onRound({ sent: 5, lost: 1, indeterminate: 0, sendErrors: 0, icmpErrors: 0, rtts, rttCount: 4, endWallMs: 1000, perProbe: null });
  assert.deepEqual(task.last, { sent: 5, lost: 1, rttP50: 0.025, rttP95: 0.0385, rttMax: 0.04, endWallMs: 1000, lastSuccessWallMs: 1000 });
  task.onRound({ sent: 5, lost: 5, indeterminate: 0, sendErrors: 0, icmpErrors: 0, rtts, rttCount: 0, endWallMs: 2000, perProbe: null });
  const silent = lastOf(task)!;
  assert.deepEqual([silent.sent, silent.lost, silent.endWallMs, silent.lastSuccessWallMs, Number.isNaN(silent.rttP50), Number.isNaN(silent.rttMax)], [5, 5, 2000, 1000, true, true]);
  const unreachable = createTask(c.targets.web!, c.groups.plain!, 4, summaries);
  unreachable.onRound({ sent: 2, lost: 0, indeterminate: 0, sendErrors: 0, icmpErrors: 2, rtts, rttCount: 0, endWallMs: 3000, perProbe: null });
  assert.equal(unreachable.last!.lastSuccessWallMs, 0, 'ICMP errors are no success');
  assert.equal(lastOf(task)!.endWallMs, 2000, 'each task its own row');
});

void test('a retired task gives its row back and keeps no later round; the row starts afresh for the next task', () => {
  const summaries = new RoundSummaries();
  const rtts = new Float64Array([0.01]);
  const round = (endWallMs: number) => ({ sent: 1, lost: 0, indeterminate: 0, sendErrors: 0, icmpErrors: 0, rtts, rttCount: 1, endWallMs, perProbe: null });
  const old = createTask(c.targets.web!, c.groups.plain!, 4, summaries);
  old.onRound(round(1000));
  old.retire();
  assert.equal(old.last, null);
  old.onRound(round(2000)); // a round cut short, settling after its target is gone
  assert.equal(old.last, null);
  const next = createTask(c.targets.web!, c.groups.plain!, 4, summaries);
  next.onRound({ ...round(3000), lost: 1, rttCount: 0 });
  assert.deepEqual([next.last!.lastSuccessWallMs, next.last!.endWallMs], [0, 3000], 'nothing of the row before');
  assert.equal(summaries.take(), 1, 'the freed row went to the next task');
});

void test('the summaries grow past their first rows and keep every row', () => {
  const summaries = new RoundSummaries();
  const rtts = new Float64Array(1);
  const rows = Array.from({ length: FIRST_ROWS * 2 + 3 }, () => summaries.take());
  assert.deepEqual(rows.slice(-2), [FIRST_ROWS * 2 + 1, FIRST_ROWS * 2 + 2]);
  for (const row of rows) summaries.update(row, { sent: row + 1, lost: 0, indeterminate: 0, sendErrors: 0, icmpErrors: 0, rtts, rttCount: 0, endWallMs: row + 1, perProbe: null });
  assert.ok(rows.every((row) => summaries.read(row).sent === row + 1 && summaries.read(row).lastSuccessWallMs === row + 1));
});

void test('tasks whose type uses no ports and whose group has no subnet for their family share their group rotation', () => {
  const icmp = (group: 'plain' | 'pooled', family: 4 | 6) => createTask(c.targets.web!, c.groups[group]!, family, new RoundSummaries(), null, false).rotation;
  assert.equal(icmp('plain', 4), icmp('plain', 4));
  assert.equal(icmp('pooled', 6), icmp('pooled', 6), 'the group has no subnet for IPv6');
  assert.equal(icmp('plain', 6) === icmp('pooled', 6), false, 'one per group');
  assert.equal(icmp('pooled', 4) === icmp('pooled', 4), false, 'a source round robin turns: one each');
  assert.equal(createTask(c.targets.web!, c.groups.plain!, 4, new RoundSummaries()).rotation === createTask(c.targets.web!, c.groups.plain!, 4, new RoundSummaries()).rotation, false, 'ports turn: one each');
  assert.deepEqual([icmp('plain', 4).portA, icmp('plain', 4).portZ], [c.groups.plain!.src_port_a, c.groups.plain!.src_port_z]);
});
