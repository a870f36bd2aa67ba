import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteInfo } from '../../../src/net/types.js';
import { PacketSlab } from '../../../src/packet/pool.js';
import { icmpProbe } from '../../../src/probes/icmp.js';
import type { PrepareInput, ProbeKind } from '../../../src/probes/types.js';
import { prepareProbes } from '../../../src/targets/prepare.js';
import { createTask } from '../../../src/targets/tasks.js';
import { memoryLogger } from '../../fakes/logger.js';
import { configOf, noProbe } from './fixtures.js';

const c = configOf({ a: '{}', b: '{}' }, { net: '{type: ICMPping, destination: 198.18.0.0/30, is_subnet: true}' });
const cfg = c.targets.net!;

void test('one probe per (task, routed address) on the capture of its interface; the rest is logged and left out', () => {
  const { log, lines } = memoryLogger();
  const opened: string[] = [];
  const inputs: PrepareInput[] = [];
  const kind: ProbeKind = {
    ...icmpProbe,
    prepare(input) {
      if (input.address === '198.18.0.2' && input.group.name === 'b') throw new Error('refused');
      inputs.push(input);
      return noProbe;
    },
  };
  const tasks = [createTask(cfg, c.groups.a!, 4), createTask(cfg, c.groups.b!, 4)];
  const routes = new Map<string, RouteInfo>([
    ['198.18.0.1', { dev: 'veth1', prefsrc: null }],
    ['198.18.0.2', { dev: 'veth2', prefsrc: '198.18.0.254' }],
  ]);
  const deps = { captureFor: (iface: string) => opened.push(iface) - 1, log, alloc: new PacketSlab().alloc };
  const out = prepareProbes(deps, { cfg, kind, kindNumber: 5, family: 4 }, tasks, ['198.18.0.0', '198.18.0.1', '198.18.0.2'], routes);
  assert.deepEqual(out.get(tasks[0]!)?.hosts, ['198.18.0.1', '198.18.0.2']);
  assert.deepEqual(out.get(tasks[1]!)?.hosts, ['198.18.0.1']);
  assert.deepEqual(out.get(tasks[0]!)?.probes, [noProbe, noProbe]);
  assert.deepEqual(inputs.map((i) => [i.group.name, i.address, i.capture, i.kind, i.route.dev]), [
    ['a', '198.18.0.1', 0, 5, 'veth1'], ['b', '198.18.0.1', 1, 5, 'veth1'], ['a', '198.18.0.2', 2, 5, 'veth2'],
  ]);
  assert.equal(inputs[0]!.rotation, tasks[0]!.rotation, 'the round robins of the task');
  assert.ok(lines.some((l) => l.includes('no route to destination address') && l.includes('198.18.0.0')));
  assert.ok(lines.some((l) => l.includes('cannot probe destination address') && l.includes('refused')));
});

void test('a task that probes every address shares the list of addresses as its hosts', () => {
  const { log } = memoryLogger();
  const tasks = [createTask(cfg, c.groups.a!, 4)];
  const routes = new Map<string, RouteInfo>([['198.18.0.1', { dev: 'veth1', prefsrc: null }]]);
  const deps = { captureFor: () => 0, log, alloc: new PacketSlab().alloc };
  const kind: ProbeKind = { ...icmpProbe, prepare: () => noProbe };
  const addresses = ['198.18.0.1'];
  assert.equal(prepareProbes(deps, { cfg, kind, kindNumber: 5, family: 4 }, tasks, addresses, routes).get(tasks[0]!)?.hosts, addresses);
  const unrouted = ['198.18.0.1', '198.18.0.2'];
  assert.deepEqual(prepareProbes(deps, { cfg, kind, kindNumber: 5, family: 4 }, tasks, unrouted, routes).get(tasks[0]!)?.hosts, ['198.18.0.1']);
});
