import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoundResult } from '../../../src/scheduler/round.js';
import { createTask, LastRound, TaskRotations } from '../../../src/targets/tasks.js';
import { configOf } from './fixtures.js';

const c = configOf(
  { plain: '{}', pooled: '{src_subnet_ipv4: 198.18.8.0/29}' },
  { web: '{type: TCPsyn, destination: 198.18.0.0/30, is_subnet: true, dst_port: 80, nb_packets: 7, timeout: 2, per_host_metrics: true}' },
);

void test('a task per (target, group): key, packets, timeout, port round robin from the range start, no probes, no recorders', () => {
  const task = createTask(c.targets.web!, c.groups.plain!, 4);
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
  const task = createTask(c.targets.web!, c.groups.plain!, 4, { taskFailed: (t, e) => failed.push(t === task, e) });
  task.onFailure(new Error('x'));
  assert.deepEqual(failed, [true, new Error('x')]);
});

void test('the group subnet of the target family is the source round robin', () => {
  assert.equal(createTask(c.targets.web!, c.groups.pooled!, 4).rotation.sources?.count, 7);
  assert.equal(createTask(c.targets.web!, c.groups.pooled!, 6).rotation.sources, null);
});

void test('rounds go to the recorders the task has at the time', () => {
  const task = createTask(c.targets.web!, c.groups.plain!, 4);
  const seen: string[] = [];
  const round = { sent: 1, lost: 0, icmpErrors: 0, rtts: new Float64Array(1), rttCount: 0, endWallMs: 0 } as RoundResult;
  task.onRound(round);
  task.recorder = { record: (r: RoundResult) => seen.push(`task ${r.sent}`) } as unknown as typeof task.recorder;
  task.hostRecorder = { record: (r: RoundResult) => seen.push(`host ${r.sent}`) } as unknown as typeof task.hostRecorder;
  task.onRound(round);
  assert.deepEqual(seen, ['task 1', 'host 1']);
});

void test('each round leaves its summary for the status page: loss, RTT p50/p95/max, last success carried over', () => {
  const task = createTask(c.targets.web!, c.groups.plain!, 4);
  assert.equal(task.last, null);
  const rtts = new Float64Array([0.01, 0.02, 0.03, 0.04, 0]);
  task.onRound({ sent: 5, lost: 1, indeterminate: 0, sendErrors: 0, icmpErrors: 0, rtts, rttCount: 4, endWallMs: 1000, perProbe: null });
  assert.deepEqual({ ...task.last! }, { sent: 5, lost: 1, rttP50: 0.025, rttP95: 0.0385, rttMax: 0.04, endWallMs: 1000, lastSuccessWallMs: 1000 });
  const first = task.last;
  task.onRound({ sent: 5, lost: 5, indeterminate: 0, sendErrors: 0, icmpErrors: 0, rtts, rttCount: 0, endWallMs: 2000, perProbe: null });
  assert.equal(task.last, first, 'updated in place: no object per round');
  const silent = task.last!;
  assert.deepEqual([silent.endWallMs, silent.lastSuccessWallMs, Number.isNaN(silent.rttP50), Number.isNaN(silent.rttMax)], [2000, 1000, true, true]);
  const unreachable = new LastRound().update({ sent: 2, lost: 0, indeterminate: 0, sendErrors: 0, icmpErrors: 2, rtts, rttCount: 0, endWallMs: 3000, perProbe: null });
  assert.equal(unreachable.lastSuccessWallMs, 0, 'ICMP errors are no success');
});

void test('tasks whose type uses no ports and whose group has no subnet for their family share their group rotation', () => {
  const rotations = new TaskRotations();
  const icmp = (group: 'plain' | 'pooled', family: 4 | 6) => createTask(c.targets.web!, c.groups[group]!, family, null, rotations.of(c.groups[group]!, family, false)).rotation;
  assert.equal(icmp('plain', 4), icmp('plain', 4));
  assert.equal(icmp('pooled', 6), icmp('pooled', 6), 'the group has no subnet for IPv6');
  assert.equal(icmp('plain', 6) === icmp('pooled', 6), false, 'one per group');
  assert.equal(icmp('pooled', 4) === icmp('pooled', 4), false, 'a source round robin turns: one each');
  assert.equal(createTask(c.targets.web!, c.groups.plain!, 4).rotation === createTask(c.targets.web!, c.groups.plain!, 4).rotation, false, 'ports turn: one each');
  assert.deepEqual([icmp('plain', 4).portA, icmp('plain', 4).portZ], [c.groups.plain!.src_port_a, c.groups.plain!.src_port_z]);
  assert.equal(icmp('plain', 4) === new TaskRotations().of(c.groups.plain!, 4, false), false, 'shared within one set of rotations (a manager\'s), not across');
});
