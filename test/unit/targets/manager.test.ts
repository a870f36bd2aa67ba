import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Config } from '../../../src/config/types.js';
import type { RouteInfo } from '../../../src/net/types.js';
import { addrHash, parseIp } from '../../../src/lib/address.js';
import { targetSeriesFactory } from '../../../src/metrics/target-series.js';
import { TargetManager } from '../../../src/targets/manager.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';
import { catalog, configOf, FakeLoop, seriesLines, valueOf } from './fixtures.js';

const GROUPS = { a: '{}', b: '{src_port_a: 40000, src_port_z: 40001}' };
const TARGETS = {
  ping: '{type: ICMPping, destination: 198.18.0.1}',
  net: '{type: ICMPping, destination: 198.18.1.0/31, is_subnet: true}',
  syn: '{type: TCPsyn, destination: 198.18.0.1, dst_port: 80}',
  host: '{type: ICMPping, destination: db.example.com, dns_update_interval: 60}',
};
const hash = (a: string): number => addrHash(parseIp(a)!, 0, parseIp(a)!.length);
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(config: Config, dns: Record<string, string> = { 'db.example.com': '198.18.2.2' }) {
  const cat = catalog();
  const loop = new FakeLoop();
  const clock = new FakeClock();
  const { log, lines } = memoryLogger();
  const captures: string[] = [];
  const lookups: string[] = [];
  const manager = new TargetManager({
    config,
    series: targetSeriesFactory(cat, clock),
    quarantined: cat.quarantined,
    engine: { captureFor: (iface) => (captures.includes(iface) ? captures.indexOf(iface) : captures.push(iface) - 1) },
    loop,
    routes: {
      lookup: (addrs) => Promise.resolve(new Map(addrs.map((a): [string, RouteInfo] => [a, { dev: 'veth0', prefsrc: '198.18.9.9' }]))),
    },
    resolve: (host) => {
      lookups.push(host);
      const a = dns[host];
      return a === undefined ? Promise.reject(new Error(`${host}: NXDOMAIN`)) : Promise.resolve(a);
    },
    clock,
    log,
    signal: new AbortController().signal,
  });
  return { cat, loop, clock, lines, captures, lookups, manager };
}

const probesOf = (loop: FakeLoop): Record<string, number> =>
  Object.fromEntries([...loop.tasks.values()].map((t) => [t.key.replace('\u0000', '/'), t.probes.length]));

void test('init: literals and subnets at once, hostnames in the background; one task per (target, group)', async () => {
  const { cat, loop, captures, manager } = setup(configOf(GROUPS, TARGETS));
  manager.primeMetrics();
  await manager.init();
  await flush();
  assert.equal(manager.targetCount, 4);
  assert.deepEqual(probesOf(loop), {
    'ping/a': 1, 'ping/b': 1, 'net/a': 2, 'net/b': 2, 'syn/a': 1, 'syn/b': 1, 'host/a': 1, 'host/b': 1,
  });
  assert.deepEqual(captures, ['veth0']);
  for (const t of ['ping', 'net', 'syn', 'host']) {
    assert.equal(valueOf(cat, `app_host_resolution_status{probe_name="lab",destination="${t}"`), 1, t);
    assert.equal(valueOf(cat, `app_host_resolution_change_total{probe_name="lab",destination="${t}"`), 1, t);
  }
});

void test('a hostname that does not resolve leaves its target inactive; it is retried when due', async () => {
  const { cat, loop, clock, lookups, manager } = setup(configOf(GROUPS, { host: TARGETS.host }), {});
  await manager.init();
  await flush();
  assert.equal(loop.tasks.size, 0);
  assert.equal(valueOf(cat, 'app_host_resolution_status{probe_name="lab",destination="host"'), 0);
  manager.refreshDue();
  assert.equal(lookups.length, 1, 'not due yet');
  await clock.advance(60_000);
  manager.refreshDue();
  assert.equal(lookups.length, 2);
});

void test('apply: unchanged targets keep their tasks, changed ones start over, removed ones lose every series', async () => {
  const { cat, loop, manager } = setup(configOf(GROUPS, TARGETS));
  manager.primeMetrics();
  await manager.init();
  await flush();
  const kept = loop.tasks.get('ping\u0000a');
  const next = configOf(GROUPS, { ping: TARGETS.ping, net: TARGETS.net, syn: '{type: TCPsyn, destination: 198.18.0.1, dst_port: 443}' });
  const summary = await manager.apply(next);
  assert.deepEqual(summary, { kept: 2, added: 0, changed: 1, removed: 1 });
  assert.equal(loop.tasks.get('ping\u0000a'), kept, 'the same task: no gap');
  assert.deepEqual(Object.keys(probesOf(loop)).sort(), ['net/a', 'net/b', 'ping/a', 'ping/b', 'syn/a', 'syn/b']);
  assert.ok(!seriesLines(cat).some((l) => l.includes('destination="host"')), 'no series of a removed target');
});

void test('unmatched answers count against the targets of the reason\'s type probing the sender', async () => {
  const { cat, manager } = setup(configOf(GROUPS, TARGETS));
  manager.primeMetrics();
  await manager.init();
  manager.unmatched('tcp_ack', hash('198.18.0.1'));
  manager.unmatched('tcp_ack', hash('198.18.7.7'));
  assert.equal(valueOf(cat, 'tcpsyn_match_ack_fail_count{probe_name="lab",destination="syn"'), 1);
  assert.equal(valueOf(cat, 'tcpsyn_match_ack_fail_count{probe_name="lab",destination="ping"'), undefined);
});
