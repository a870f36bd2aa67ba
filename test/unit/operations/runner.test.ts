// The OperationRunner over a fake engine (a simulated 3-router path), the hop statistics, the
// Team Cymru helpers and the CLI's options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAppError } from '../../../src/lib/errors.js';
import { systemClock } from '../../../src/lib/clock.js';
import type { WireProbe } from '../../../src/net/probe-types.js';
import { Outcome, type OutcomeSink, type RouteResolver } from '../../../src/net/types.js';
import { cymruQueryName, parseCymruTxt } from '../../../src/operations/annotate.js';
import { parseOperationArgs, UsageError } from '../../../src/operations/cli.js';
import { distinctPaths, HopAccumulator } from '../../../src/operations/hop-stats.js';
import { createOperationRunner, packetBudget, probeReply, type OperationEngine } from '../../../src/operations/runner.js';
import type { OperationEvent, OperationSpec } from '../../../src/operations/types.js';
import { memoryLogger } from '../../fakes/logger.js';

const DST = '198.18.15.2';
const hopAddr = (ttl: number, flow: number): string => (ttl === 2 ? `198.18.${11 + (flow % 2)}.2` : `198.18.${9 + ttl}.1`);

/**
 * A path probe → r1 → r2a|r2b (by source port parity) → r3 → DST: TTL < 4 is answered with a
 * time-exceeded by hop `ttl` (hop `silent` answers nothing), TTL >= 4 by DST.
 */
function fakeEngine(opts: { silent?: number; lossEvery?: number } = {}) {
  const sent: { ttl: number; port: number }[] = [];
  const engine: OperationEngine = {
    captureFor: () => 0,
    send(p: WireProbe, sink: OutcomeSink, index: number) {
      const ttl = p.wire[8]!;
      const port = p.protocol === 1 ? 0 : (p as WireProbe & { srcPort: number }).srcPort;
      sent.push({ ttl, port });
      const n = sent.length;
      setImmediate(() => {
        if (ttl === opts.silent || (opts.lossEvery !== undefined && n % opts.lossEvery === 0)) sink.onOutcome(index, Outcome.LOST, NaN);
        else if (ttl >= 4) sink.onAnswer!(index, Outcome.OK, 0.0004, DST, -1);
        else sink.onAnswer!(index, Outcome.ICMP_ERROR, ttl / 10000, hopAddr(ttl, port), 11 << 8);
      });
    },
  };
  return { engine, sent };
}

const routes: RouteResolver = { lookup: (a) => Promise.resolve(new Map(a.map((x) => [x, { dev: 'veth0', prefsrc: '198.18.10.2' }]))) };

function runner(engine: OperationEngine, annotator?: { name?: (a: string) => Promise<string | null> }) {
  return createOperationRunner({
    engine, routes, lookup: () => Promise.resolve(DST), clock: systemClock, log: memoryLogger().log,
    kinds: { icmp: 0, tcp: 1, udp: 2 }, ...(annotator === undefined ? {} : { annotator }),
  });
}

const base = { destination: DST, size: 0, dscp: 0, timeout: 1 } as const;

async function run(spec: OperationSpec, engine: OperationEngine, annotator?: { name?: (a: string) => Promise<string | null> }) {
  const events: OperationEvent[] = [];
  const result = await runner(engine, annotator).run(spec, (e) => events.push(e), new AbortController().signal);
  return { result, events };
}

void test('traceroute: hops in TTL order, stops at the destination, one flow stays on one path', async () => {
  const { engine, sent } = fakeEngine();
  const { result, events } = await run({ ...base, kind: 'traceroute', protocol: 'udp', maxHops: 30, queries: 3, paths: 1, resolve: false, asn: false }, engine);
  assert.equal(result.reached, true);
  assert.equal(result.paths.length, 1);
  assert.deepEqual(result.paths[0]!.map((h) => h.addresses), [['198.18.10.1'], [hopAddr(2, sent[0]!.port)], ['198.18.12.1'], [DST]]);
  assert.deepEqual(result.paths[0]!.map((h) => [h.sent, h.received, h.loss]), [[3, 3, 0], [3, 3, 0], [3, 3, 0], [3, 3, 0]]);
  assert.equal(new Set(sent.map((s) => s.port)).size, 1, 'one source port: the flow identifier');
  assert.ok(sent.every((s) => s.ttl <= 4 + 8), 'TTLs beyond the destination stop at the window');
  const hops = events.filter((e) => e.type === 'hop').map((e) => (e.type === 'hop' ? e.hop.ttl : 0));
  assert.deepEqual(hops, [1, 2, 3, 4]);
  assert.equal(events[0]!.type, 'start');
  assert.equal(events.at(-1)!.type, 'done');
  const te = events.find((e) => e.type === 'probe' && e.reply.ttl === 1);
  assert.deepEqual(te?.type === 'probe' ? [te.reply.kind, te.reply.icmpType, te.reply.icmpCode, te.reply.rttMs] : [], ['time-exceeded', 11, 0, 0.1]);
});

void test('traceroute --paths: flows differ by source port; the distinct paths are reported', async () => {
  const { engine, sent } = fakeEngine();
  const { result } = await run({ ...base, kind: 'traceroute', protocol: 'tcp', maxHops: 10, queries: 1, paths: 8, resolve: false, asn: false }, engine);
  assert.equal(new Set(sent.map((s) => s.port)).size, 8);
  assert.deepEqual(result.paths.map((p) => p[1]!.addresses[0]).sort(), ['198.18.11.2', '198.18.12.2']);
});

void test('a silent hop is reported with no responder and full loss; names come from the annotator', async () => {
  const { engine } = fakeEngine({ silent: 2 });
  const { result, events } = await run(
    { ...base, kind: 'traceroute', protocol: 'icmp', maxHops: 30, queries: 2, paths: 1, resolve: true, asn: false, timeout: 0.05 },
    engine,
    { name: (a) => Promise.resolve(a === DST ? 'target.example' : null) },
  );
  const hop2 = result.paths[0]![1]!;
  assert.deepEqual([hop2.addresses, hop2.received, hop2.loss, hop2.avgMs], [[], 0, 1, null]);
  assert.deepEqual(result.paths[0]![3]!.names, { [DST]: 'target.example' });
  assert.ok(events.some((e) => e.type === 'annotate' && e.name === 'target.example'));
});

void test('mtr: per-hop statistics over the cycles, hop events after each cycle', async () => {
  const { engine } = fakeEngine({ lossEvery: 4 });
  const { result, events } = await run({ ...base, kind: 'mtr', protocol: 'icmp', maxHops: 30, cycles: 5, interval: 0.001, resolve: false, asn: false }, engine);
  assert.equal(result.paths[0]!.length, 4);
  assert.equal(result.paths[0]!.reduce((n, h) => n + h.sent, 0), 20);
  assert.equal(result.paths[0]!.reduce((n, h) => n + (h.sent - h.received), 0), 5, 'every 4th probe lost');
  // one hop event per hop per cycle, up to the end known then (TTL 4 lost in cycle 1: TTL 5 answered first)
  const hops = events.flatMap((e) => (e.type === 'hop' ? [e.hop.ttl] : []));
  assert.deepEqual(hops.slice(-4), [1, 2, 3, 4]);
  assert.ok(hops.length >= 20 && hops.length <= 25, `${hops.length} hop events`);
});

void test('ping: count probes, statistics of the destination as one hop', async () => {
  const { engine, sent } = fakeEngine();
  const { result } = await run({ ...base, kind: 'ping', protocol: 'icmp', count: 4, interval: 0.001 }, engine);
  assert.deepEqual([result.sent, result.received, result.reached, sent.every((s) => s.ttl === 64)], [4, 4, true, true]);
  assert.deepEqual([result.paths[0]![0]!.avgMs, result.paths[0]![0]!.stddevMs], [0.4, 0]);
});

void test('the runner refuses specs beyond its bounds with OPS_ERR_SPEC', async () => {
  const { engine, sent } = fakeEngine();
  const r = runner(engine);
  const bad: OperationSpec[] = [
    { ...base, kind: 'traceroute', protocol: 'udp', maxHops: 64, queries: 10, paths: 64, resolve: false, asn: false },
    { ...base, kind: 'ping', protocol: 'icmp', count: 0, interval: 1 },
    { ...base, kind: 'ping', protocol: 'icmp', count: 1, interval: 1, destination: '2001:db8::1', family: 4 },
  ];
  for (const spec of bad) await assert.rejects(r.run(spec, () => undefined, new AbortController().signal), (e) => isAppError(e, 'OPS_ERR_SPEC'));
  assert.equal(sent.length, 0);
  assert.equal(packetBudget(bad[0]!), 40960);
});

void test('probeReply: answers, errors and timeouts', () => {
  assert.deepEqual(probeReply({ outcome: Outcome.LOST, from: null, rtt: NaN, icmp: -1 }, 4, 0, 3), { seq: 0, from: null, rttMs: null, kind: 'timeout', ttl: 3 });
  assert.deepEqual(probeReply({ outcome: Outcome.ICMP_ERROR, from: 'r', rtt: 0.0012345, icmp: 0x0301 }, 4, 1), { seq: 1, from: 'r', rttMs: 1.235, kind: 'unreachable', icmpType: 3, icmpCode: 1 });
  assert.equal(probeReply({ outcome: Outcome.ICMP_ERROR, from: 'r', rtt: 0.001, icmp: 0x0300 }, 6, 1).kind, 'time-exceeded');
  assert.equal(probeReply({ outcome: Outcome.OK, from: 'd', rtt: NaN, icmp: 0x0104 }, 6, 1).rttMs, null);
});

void test('hop statistics: loss, last/avg/best/worst and population stddev; distinct paths', () => {
  const h = new HopAccumulator(2);
  for (const [from, rtt] of [['a', 1], [null, null], ['a', 3], ['b', 2], [null, null]] as const) h.add(from, rtt);
  const s = h.stats(new Map([['b', 'b.example']]), new Map([['a', 64500]]));
  assert.deepEqual(s, {
    ttl: 2, addresses: ['a', 'b'], names: { b: 'b.example' }, asns: { a: 64500 }, sent: 5, received: 3, loss: 0.4,
    lastMs: 2, avgMs: 2, bestMs: 1, worstMs: 3, stddevMs: 0.816,
  });
  const p = (...a: string[][]) => a.map((addresses, i) => ({ ...new HopAccumulator(i + 1).stats(new Map(), new Map()), addresses }));
  assert.equal(distinctPaths([p(['x'], ['y']), p(['x'], ['y']), p(['x'], ['z']), p(['x'], ['z', 'y'])]).length, 3);
  assert.equal(distinctPaths([p(['x'], ['y', 'z']), p(['x'], ['z', 'y'])]).length, 1, 'responders of a hop in any order');
});

void test('Team Cymru: query names and TXT answers', () => {
  assert.equal(cymruQueryName('198.51.100.7'), '7.100.51.198.origin.asn.cymru.com');
  assert.equal(cymruQueryName('2001:db8::1'), `1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.origin6.asn.cymru.com`);
  assert.equal(parseCymruTxt([['15169 | 8.8.8.0/24 | US | arin | 2000-03-30']]), 15169);
  assert.equal(parseCymruTxt([['64500 6450', '1 | 198.51.100.0/24 | ZZ']]), 64500);
  assert.equal(parseCymruTxt([['NA | x']]), null);
});

void test('CLI options: defaults, every option, usage errors', () => {
  const t = parseOperationArgs('traceroute', ['198.18.15.2']);
  assert.deepEqual(t.spec, { destination: '198.18.15.2', protocol: 'udp', size: 32, dscp: 0, timeout: 2, kind: 'traceroute', maxHops: 30, queries: 3, paths: 1, resolve: true, asn: false });
  const p = parseOperationArgs('ping', ['-c', '3', '-i', '0.2', '-s', '100', '--dscp=46', '--source', '198.18.10.2', '-4', '-P', 'tcp', '-p', '443', '-w', '0.5', '--json', 'h']);
  assert.deepEqual(p, { json: true, spec: { destination: 'h', protocol: 'tcp', family: 4, port: 443, size: 100, dscp: 46, source: '198.18.10.2', timeout: 0.5, kind: 'ping', count: 3, interval: 0.2 } });
  const m = parseOperationArgs('mtr', ['-6', '--cycles', '20', '-n', '--asn', '--max-hops=12', 'h']);
  assert.deepEqual([m.spec.kind, m.spec.family, m.spec.kind === 'mtr' && m.spec.cycles, m.spec.kind === 'mtr' && m.spec.resolve, m.spec.kind === 'mtr' && m.spec.asn], ['mtr', 6, 20, false, true]);
  for (const [kind, args] of [
    ['ping', []], ['ping', ['--paths', '2', 'h']], ['traceroute', ['-c', '1', 'h']], ['mtr', ['-P', 'sctp', 'h']],
    ['ping', ['-c', 'x', 'h']], ['ping', ['a', 'b']], ['ping', ['-p', '80', 'h']], ['ping', ['--bogus', 'h']],
  ] as const) {
    assert.throws(() => parseOperationArgs(kind, args), UsageError, `${kind} ${args.join(' ')}`);
  }
});
