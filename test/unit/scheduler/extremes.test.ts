/**
 * A value the schema allows never crashes the prober: targets built from the schema's extreme
 * allowed values (every numeric key at its minimum and maximum, one at a time, then seeded
 * random combinations) go through the real config loader, target manager, scheduler and
 * engine (fake sockets, captures and clock), and their rounds run and settle. A target whose
 * values bypass the schema is quarantined instead of taking the process down.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { MAX_ROUND_PACKETS } from '../../../src/config/subnet.js';
import type { Config, ProbeType } from '../../../src/config/types.js';
import { createCatalog } from '../../../src/metrics/catalog.js';
import { targetSeriesFactory } from '../../../src/metrics/target-series.js';
import { Engine } from '../../../src/net/engine.js';
import { probeKinds, sourcePortRanges } from '../../../src/probes/index.js';
import type { Family, RawSender, RouteInfo } from '../../../src/net/types.js';
import { ProbeLoop } from '../../../src/scheduler/loop.js';
import { TargetManager } from '../../../src/targets/manager.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';
import { FakeCaptureFactory, inlineDecoder } from '../../fakes/net.js';
import { rng } from '../../fakes/rng.js';

type Node = Record<string, unknown>;
const schema = JSON.parse(readFileSync(new URL('../../../../schema/config.schema.json', import.meta.url), 'utf8')) as { $defs: Record<string, Node> };
const defs = schema.$defs;

interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/** min/max of a schema node (following one `$ref`); an exclusive minimum becomes the smallest value above it used here. */
function bounds(node: Node): Bounds {
  const n = typeof node.$ref === 'string' ? { ...defs[node.$ref.replace('#/$defs/', '')], ...node } : node;
  const integer = n.type === 'integer';
  const min = typeof n.minimum === 'number' ? n.minimum : (n.exclusiveMinimum as number) + (integer ? 1 : 0.001);
  assert.equal(typeof n.maximum, 'number', `a maximum for ${JSON.stringify(n)}`);
  return { min, max: n.maximum as number, integer };
}

const props = (def: string): Record<string, Node> => defs[def]!.properties as Record<string, Node>;
const TARGET_KEYS = ['nb_packets', 'ip_payload_size', 'timeout', 'dns_update_interval', 'dst_port'] as const;
const GROUP_KEYS = ['src_port_a', 'src_port_z', 'dscp', 'ip_payload_size'] as const;
const GLOBAL_KEYS = ['interval', 'interval_packets', 'timeout', 'dns_update_interval'] as const;
const B = {
  target: Object.fromEntries(TARGET_KEYS.map((k) => [k, bounds(props('target')[k]!)])),
  group: Object.fromEntries(GROUP_KEYS.map((k) => [k, bounds(props('group')[k]!)])),
  global: Object.fromEntries(GLOBAL_KEYS.map((k) => [k, bounds(props('global')[k]!)])),
  latency: bounds((props('target').threshold!.properties as Record<string, Node>).latency!),
  loss: bounds((props('target').threshold!.properties as Record<string, Node>).loss!),
};

/** Counts sends; keeps no bytes (a round may send 65536 packets of 65000 bytes). */
class CountingSender implements RawSender {
  sent = 0;
  send(_family: Family, _protocol: number, _packet: Buffer, _length: number, _dst: string): void {
    this.sent++;
  }
  close(): void {}
}

const ROUTES = {
  lookup: (addresses: readonly string[]): Promise<Map<string, RouteInfo>> =>
    Promise.resolve(new Map(addresses.map((a) => [a, { dev: 'veth0', prefsrc: a.includes(':') ? '2001:db8::2' : '198.18.0.2' }]))),
};

/** The prober's run-time stack over `config`, with fakes at the I/O seams only. */
function stack(config: Config) {
  const clock = new FakeClock();
  const sender = new CountingSender();
  const { log, lines } = memoryLogger();
  const catalog = createCatalog(probeKinds.map((k) => k.metrics));
  const engine = new Engine({
    sender, captures: new FakeCaptureFactory(), decoder: inlineDecoder, clock, log, idBase: 0x4440,
    captureDelayMs: 10, pumpMs: 1000, probes: probeKinds, sourcePorts: sourcePortRanges(config), seqBase: 1000,
  });
  const iterations: number[] = [];
  let manager: TargetManager | null = null;
  const loop = new ProbeLoop(
    { engine, clock, log, onIteration: (s) => iterations.push(s), beforeRound: () => manager?.refreshDue() },
    { intervalS: config.global.interval, intervalPacketsS: config.global.interval_packets },
  );
  const abort = new AbortController();
  manager = new TargetManager({
    config, series: targetSeriesFactory(catalog, clock), quarantined: catalog.quarantined, engine, loop, routes: ROUTES, resolve: () => Promise.reject(new Error('no DNS in this test')), clock, log, signal: abort.signal,
  });
  return { clock, sender, catalog, loop, manager, iterations, lines, engine, stop: () => { abort.abort(); loop.stop(); } };
}

interface Case {
  readonly what: string;
  readonly global: Node;
  readonly group: Node;
  readonly target: Node;
  /** destination and is_subnet */
  readonly dest: Node;
  /** the probe types to run (all three by default) */
  readonly types?: readonly ProbeType[];
}

const BASE_GLOBAL = { probe_name: 'x', interval: 30, nb_proc: 1, logging_level: 'INFO', prometheus_port: 8000 };

function configOf(c: Case): Config {
  const targets: Record<string, Node> = {};
  const types: [ProbeType, Node][] = [['ICMPping', {}], ['TCPsyn', { dst_port: 80 }], ['UDPunreachable', { dst_port: 33434 }]];
  for (const [type, extra] of types.filter(([type]) => c.types?.includes(type) ?? true)) targets[`t-${type.toLowerCase()}`] = { type, ...extra, ...c.dest, ...c.target };
  const text = JSON.stringify({ global: { ...BASE_GLOBAL, ...c.global }, groups: { g: c.group }, targets });
  return parseConfig(text, `${c.what}.yaml`).config;
}

/** Simulated ms one round of `c` may take: spread, sends, timeout, and the next round's start. */
function roundSpanMs(config: Config): number {
  const t = Object.values(config.targets)[0]!;
  const packets = MAX_ROUND_PACKETS; // an upper bound of any case's packets per round
  const gap = config.global.interval_packets > 0 ? config.global.interval_packets * 1000 : 10;
  return config.global.interval * 1000 + Math.min(packets, t.nb_packets * 65536) * gap + t.timeout * 1000 + 2000;
}

async function runCase(c: Case): Promise<void> {
  const config = configOf(c);
  const s = stack(config);
  try {
    await s.manager.init();
    s.loop.start();
    const span = roundSpanMs(config);
    // advance in steps until a whole iteration (every task round) has settled
    for (let waited = 0; s.iterations.length === 0 && waited < span; waited += 60_000) await s.clock.advance(60_000);
    assert.ok(s.iterations.length >= 1, `${c.what}: an iteration settled`);
    assert.ok(s.sender.sent > 0, `${c.what}: packets were sent`);
    assert.equal(s.loop.taskCount, Object.keys(config.targets).length, `${c.what}: every target still probing`);
    assert.deepEqual(s.lines.filter((l) => /quarantined/.test(l)), [], c.what);
  } finally {
    s.stop();
  }
}

const val = (b: Bounds, pick: 'min' | 'max'): number => b[pick];

function oneAtATime(): Case[] {
  const cases: Case[] = [];
  const single = { destination: '198.18.0.1' };
  for (const pick of ['min', 'max'] as const) {
    for (const k of TARGET_KEYS) {
      if (k === 'dst_port') continue;
      cases.push({ what: `target.${k}=${pick}`, global: {}, group: {}, target: { [k]: val(B.target[k]!, pick) }, dest: single });
    }
    for (const k of GROUP_KEYS) {
      const group = k === 'src_port_a' ? { src_port_a: val(B.group[k]!, pick), src_port_z: B.group.src_port_z!.max } : k === 'src_port_z' ? { src_port_a: B.group.src_port_a!.min, src_port_z: val(B.group[k]!, pick) } : { [k]: val(B.group[k]!, pick) };
      cases.push({ what: `group.${k}=${pick}`, global: {}, group, target: {}, dest: single });
    }
    for (const k of GLOBAL_KEYS) {
      // a round starts at a phase of the interval: the longest interval with the shortest timeout keeps the run short
      cases.push({ what: `global.${k}=${pick}`, global: { [k]: val(B.global[k]!, pick) }, group: {}, target: { timeout: 1 }, dest: single });
    }
    cases.push({ what: `threshold=${pick}`, global: {}, group: {}, target: { threshold: { latency: val(B.latency, pick), loss: val(B.loss, pick) } }, dest: single });
  }
  // the largest rounds: a /16 and an IPv6 /112 (65536 addresses) at 1 packet, a /24 at 256 packets, one address at nb_packets max
  // (one probe type each: a round of 65536 packets takes seconds of real CPU in the fake engine)
  cases.push({ what: 'subnet /16 × 1', global: {}, group: {}, target: { nb_packets: 1 }, dest: { destination: '198.18.0.0/16', is_subnet: true }, types: ['UDPunreachable'] });
  cases.push({ what: 'subnet v6 /112 × 1', global: {}, group: {}, target: { nb_packets: 1 }, dest: { destination: '2001:db8::/112', is_subnet: true }, types: ['ICMPping'] });
  cases.push({ what: 'subnet /24 × 256', global: {}, group: {}, target: { nb_packets: MAX_ROUND_PACKETS / 256 }, dest: { destination: '198.18.1.0/24', is_subnet: true } });
  cases.push({ what: 'max packets and max payload', global: {}, group: {}, target: { nb_packets: B.target.nb_packets!.max, ip_payload_size: B.target.ip_payload_size!.max, dont_fragment: false }, dest: single });
  return cases;
}

function pickIn(b: Bounds, r: () => number): number {
  const x = r();
  if (x < 0.35) return b.min;
  if (x < 0.7) return b.max;
  const v = b.min + r() * (b.max - b.min);
  return b.integer ? Math.round(v) : v;
}

/**
 * Random combinations of extreme values. The run is simulated in a fake clock, but its CPU
 * is real: combinations that would send more than 200 000 packets before their first round
 * settles (e.g. 10 000 packets every second for an hour of timeout: 36 million), or take more
 * than 400 one-minute steps, are drawn again. Such configs are valid and run in production;
 * they are only too slow to simulate packet by packet here.
 */
function randomCases(n: number, seed: number): Case[] {
  const r = rng(seed).next;
  const cases: Case[] = [];
  while (cases.length < n) {
    const global = { interval: pickIn(B.global.interval!, r), interval_packets: pickIn(B.global.interval_packets!, r) };
    const a = pickIn(B.group.src_port_a!, r);
    const group = { src_port_a: a, src_port_z: Math.max(a, pickIn(B.group.src_port_z!, r)), dscp: pickIn(B.group.dscp!, r) };
    const target = { nb_packets: pickIn(B.target.nb_packets!, r), ip_payload_size: pickIn(B.target.ip_payload_size!, r), timeout: pickIn(B.target.timeout!, r) };
    const simS = global.interval + target.nb_packets * Math.max(global.interval_packets, 0.01) + target.timeout;
    const sends = Math.ceil(simS / global.interval + 1) * target.nb_packets * 3;
    if (simS / 60 > 400 || sends > 200_000) continue;
    cases.push({ what: `random #${cases.length} ${JSON.stringify({ global, group, target })}`, global, group, target, dest: { destination: '198.18.0.1' } });
  }
  return cases;
}

void test('every numeric key of the probing path has a maximum in the schema', () => {
  // bounds() asserts the maximum; this lists what the property tests vary
  assert.deepEqual(Object.keys(B.target), [...TARGET_KEYS]);
  assert.ok(B.target.nb_packets!.max * 1 <= MAX_ROUND_PACKETS, 'one address at nb_packets max fits a round');
});

void test('targets at the schema extremes, one value at a time, probe and settle their rounds', async () => {
  for (const c of oneAtATime()) await runCase(c);
});

void test('random combinations of extreme values probe and settle their rounds (seeded)', async () => {
  for (const c of randomCases(12, 0x5eed)) await runCase(c);
});

void test('a target whose values bypass the schema is quarantined; the others keep probing', async () => {
  const config = configOf({ what: 'poison', global: {}, group: {}, target: {}, dest: { destination: '198.18.0.1' } });
  const ok = config.targets['t-icmpping']!;
  const poisoned: Config = {
    ...config,
    targets: { ...config.targets, poison: { ...ok, name: 'poison', nb_packets: 1e308 }, nan: { ...ok, name: 'nan', nb_packets: NaN } },
  };
  const s = stack(poisoned);
  try {
    await s.manager.init();
    s.loop.start();
    await s.clock.advance(65_000);
    assert.equal(s.loop.taskCount, 3, 'the poisoned tasks left the loop');
    assert.equal(s.manager.targetCount, 3);
    const quarantined = s.lines.filter((l) => /target quarantined/.test(l));
    assert.equal(quarantined.length, 2, quarantined.join('\n'));
    assert.match(quarantined.join('\n'), /SCHED_ERR_LIMIT|outside the scheduler's limits/);
    const counter = (await s.catalog.registry.getSingleMetric('wireprobe_targets_quarantined_total')!.get()).values;
    assert.deepEqual(counter.map((v) => [v.labels.stage, v.value]).sort(), [['build', 0], ['run', 2]]);
    assert.ok(s.iterations.length >= 2, 'rounds go on');
    const sentBefore = s.sender.sent;
    await s.clock.advance(30_000);
    assert.ok(s.sender.sent > sentBefore, 'still probing');
    // the same entry applied again stays out; a fixed one comes back
    await s.manager.apply(poisoned);
    assert.equal(s.manager.targetCount, 3);
    await s.manager.apply({ ...poisoned, targets: { ...poisoned.targets, poison: { ...ok, name: 'poison', nb_packets: 2 } } });
    assert.equal(s.manager.targetCount, 4);
  } finally {
    s.stop();
  }
});
