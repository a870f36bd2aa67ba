/**
 * The OperationRunner: on-demand ping, traceroute and mtr through the one probe engine (the
 * same sockets, captures and identifier space as regular probing: operation probes are told
 * apart by their slots). RTTs come from the kernel capture timestamps, like the probes'.
 *
 * - ping: `count` probes, one every `interval`, TTL 64.
 * - traceroute: for each flow (`paths` of them, Dublin traceroute: flows differ by source port,
 *   or by the ICMP checksum), the TTLs 1..maxHops, at most WINDOW TTLs in flight, the `queries`
 *   of one TTL one after the other; a reply (or an unreachable) at TTL d ends the trace at d.
 *   Within a flow every probe keeps the flow identifier (Paris traceroute: one ECMP path).
 * - mtr: `cycles` rounds of one probe per TTL over one flow, a round every `interval`.
 *
 * Every operation is bounded in packets (RunnerLimits.maxPackets) and time (maxDurationMs, and
 * the caller's signal); names and AS numbers of hops are looked up asynchronously and bounded.
 */
import { canonicalIp, ipFamily, parseIp } from '../lib/address.js';
import type { Clock } from '../lib/clock.js';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { LookupFn } from '../dns/resolver.js';
import type { WireProbe } from '../net/probe-types.js';
import { Outcome, type Family, type OutcomeSink, type RouteResolver } from '../net/types.js';
import { HopAnnotations, type HopAnnotator } from './annotate.js';
import { distinctPaths, HopAccumulator, round3 } from './hop-stats.js';
import type {
  HopStats, MtrSpec, OperationEvent, OperationResult, OperationRunner, OperationSpec, PingSpec, ProbeReply, TracerouteSpec,
} from './types.js';
import { FlowProbes, OPERATION_PORT_COUNT, type OperationKinds } from './wire.js';

/** The engine as the runner uses it. */
export interface OperationEngine {
  send(p: WireProbe, sink: OutcomeSink, index: number): void;
  captureFor(iface: string): number;
}

export interface RunnerLimits {
  /** probes one operation may send at most */
  readonly maxPackets: number;
  /** an operation ends (with what it gathered) after this long */
  readonly maxDurationMs: number;
}

export const DEFAULT_RUNNER_LIMITS: RunnerLimits = { maxPackets: 10_000, maxDurationMs: 600_000 };

export interface RunnerDeps {
  readonly engine: OperationEngine;
  readonly routes: RouteResolver;
  /** bounded name resolution (dns/resolver.ts createResolver) */
  readonly lookup: LookupFn;
  readonly clock: Clock;
  readonly log: Logger;
  readonly kinds: OperationKinds;
  /** reverse DNS and AS numbers of hops; absent: hops are not annotated */
  readonly annotator?: HopAnnotator;
  readonly limits?: RunnerLimits;
}

/** TTLs of one flow in flight at once */
const WINDOW = 8;
/** ping's TTL */
const PING_TTL = 64;
const TCP_DEFAULT_PORT = 80;
const UDP_DEFAULT_PORT = 33434;
/** a route lookup gives up after this long */
const ROUTE_TIMEOUT_MS = 5000;

/** What became of one probe, before it is turned into a ProbeReply. */
interface Answer {
  readonly outcome: Outcome;
  /** null when unanswered */
  readonly from: string | null;
  /** seconds; NaN when unknown */
  readonly rtt: number;
  /** ICMP type << 8 | code of an ICMP error answer, else -1 */
  readonly icmp: number;
}

const ABORTED: Answer = { outcome: Outcome.LOST, from: null, rtt: NaN, icmp: -1 };

/** One operation's probes in flight: the engine's sink, each probe a promise of its answer. */
class ProbeWaits implements OutcomeSink {
  readonly #waits = new Map<number, (a: Answer) => void>();
  #next = 0;
  sent = 0;
  /** probes answered (by anyone) */
  answered = 0;

  constructor(private readonly engine: OperationEngine, private readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => {
      for (const resolve of this.#waits.values()) resolve(ABORTED);
      this.#waits.clear();
    }, { once: true });
  }

  /** sends `p`; resolves with its answer (at once with none when the operation is aborted) */
  send(p: WireProbe): Promise<Answer> {
    if (this.signal.aborted) return Promise.resolve(ABORTED);
    const index = this.#next++;
    this.sent++;
    return new Promise((resolve) => {
      this.#waits.set(index, resolve);
      this.engine.send(p, this, index);
    });
  }

  #settle(index: number, a: Answer): void {
    const resolve = this.#waits.get(index);
    if (resolve === undefined) return;
    this.#waits.delete(index);
    if (a.from !== null) this.answered++;
    resolve(a);
  }

  onOutcome(index: number, outcome: Outcome, rttSeconds: number): void {
    const answered = outcome === Outcome.OK || outcome === Outcome.ICMP_ERROR;
    // an answer without onAnswer's details does not happen (this sink has onAnswer); keep it as unknown origin
    this.#settle(index, { outcome, from: answered ? '' : null, rtt: rttSeconds, icmp: -1 });
  }

  onAnswer(index: number, outcome: Outcome, rttSeconds: number, from: string, icmp: number): void {
    this.#settle(index, { outcome, from, rtt: rttSeconds, icmp });
  }
}

/** The ProbeReply of an answer. */
export function probeReply(a: Answer, family: Family, seq: number, ttl?: number, path?: number): ProbeReply {
  const extra = { ...(ttl === undefined ? {} : { ttl }), ...(path === undefined ? {} : { path }) };
  const rttMs = a.from !== null && Number.isFinite(a.rtt) ? round3(a.rtt * 1000) : null;
  if (a.from === null) return { seq, from: null, rttMs: null, kind: 'timeout', ...extra };
  const icmp = a.icmp >= 0 ? { icmpType: a.icmp >>> 8, icmpCode: a.icmp & 0xff } : {};
  if (a.outcome === Outcome.OK) return { seq, from: a.from, rttMs, kind: 'reply', ...icmp, ...extra };
  const timeExceeded = (a.icmp >>> 8) === (family === 4 ? 11 : 3);
  return { seq, from: a.from, rttMs, kind: timeExceeded ? 'time-exceeded' : 'unreachable', ...icmp, ...extra };
}

/** Probes an operation would send at most. */
export function packetBudget(spec: OperationSpec): number {
  switch (spec.kind) {
    case 'ping': return spec.count;
    case 'traceroute': return spec.paths * spec.queries * spec.maxHops;
    case 'mtr': return spec.cycles * spec.maxHops;
  }
}

function refuse(message: string): AppError {
  return new AppError(ErrorCodes.OPS_ERR_SPEC, message);
}

const intIn = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
const numIn = (v: number, lo: number, hi: number): boolean => Number.isFinite(v) && v >= lo && v <= hi;

/** Throws OPS_ERR_SPEC on a spec out of the runner's bounds (the API's schema is narrower). */
export function checkSpec(spec: OperationSpec, limits: RunnerLimits): void {
  const bad: string[] = [];
  if (!['icmp', 'tcp', 'udp'].includes(spec.protocol)) bad.push(`protocol ${String(spec.protocol)}`);
  if (spec.port !== undefined && !intIn(spec.port, 1, 65535)) bad.push(`port ${spec.port}`);
  if (!intIn(spec.size, 0, 8000)) bad.push(`size ${spec.size}`);
  if (!intIn(spec.dscp, 0, 63)) bad.push(`dscp ${spec.dscp}`);
  if (!numIn(spec.timeout, 0.01, 60)) bad.push(`timeout ${spec.timeout}`);
  if (spec.family !== undefined && spec.family !== 4 && spec.family !== 6) bad.push(`family ${String(spec.family)}`);
  if (spec.kind === 'ping') {
    if (!intIn(spec.count, 1, 1_000_000)) bad.push(`count ${spec.count}`);
    if (!numIn(spec.interval, 0.001, 3600)) bad.push(`interval ${spec.interval}`);
  } else {
    if (!intIn(spec.maxHops, 1, 255)) bad.push(`maxHops ${spec.maxHops}`);
    if (spec.kind === 'traceroute') {
      if (!intIn(spec.queries, 1, 100)) bad.push(`queries ${spec.queries}`);
      if (!intIn(spec.paths, 1, OPERATION_PORT_COUNT)) bad.push(`paths ${spec.paths}`);
    } else {
      if (!intIn(spec.cycles, 1, 1_000_000)) bad.push(`cycles ${spec.cycles}`);
      if (!numIn(spec.interval, 0.001, 3600)) bad.push(`interval ${spec.interval}`);
    }
  }
  if (bad.length > 0) throw refuse(`${spec.kind}: out of bounds: ${bad.join(', ')}`);
  const packets = packetBudget(spec);
  if (packets > limits.maxPackets) throw refuse(`${spec.kind} would send up to ${packets} probes (at most ${limits.maxPackets})`);
}

/** Everything one running operation shares. */
interface Op {
  readonly spec: OperationSpec;
  readonly family: Family;
  readonly address: string;
  readonly probes: FlowProbes;
  readonly waits: ProbeWaits;
  readonly signal: AbortSignal;
  readonly emit: (e: OperationEvent) => void;
  readonly notes: HopAnnotations;
  seq: number;
  /** the result is out: late probes of TTLs beyond a trace's end report nothing more */
  closed: boolean;
}

/** One traced flow: its hops and where it ends. */
interface Trace {
  readonly flow: number;
  readonly hops: HopAccumulator[];
  /** the last TTL worth probing: the destination's (or an unreachable's) once known */
  limit: number;
  reached: boolean;
}

export function createOperationRunner(deps: RunnerDeps): OperationRunner {
  const limits = deps.limits ?? DEFAULT_RUNNER_LIMITS;
  let operations = 0;

  async function resolveAddress(spec: OperationSpec): Promise<{ address: string; family: Family }> {
    const literal = canonicalIp(spec.destination);
    if (literal !== null) {
      const family: Family = ipFamily(literal) === 'ipv6' ? 6 : 4;
      if (spec.family !== undefined && spec.family !== family) throw refuse(`${spec.destination} is not an IPv${spec.family} address`);
      return { address: literal, family };
    }
    const families: Family[] = spec.family !== undefined ? [spec.family] : [4, 6];
    let last: unknown = null;
    for (const family of families) {
      try {
        const a = canonicalIp(await deps.lookup(spec.destination, family));
        if (a !== null && (ipFamily(a) === 'ipv6' ? 6 : 4) === family) return { address: a, family };
      } catch (e) {
        last = e;
      }
    }
    throw new AppError(ErrorCodes.DNS_ERR_RESOLVE, `${spec.destination}: no IPv${families.join('/IPv')} address${last === null ? '' : ` (${errorMessage(last)})`}`);
  }

  async function prepare(spec: OperationSpec, signal: AbortSignal, emit: (e: OperationEvent) => void): Promise<Op> {
    checkSpec(spec, limits);
    const { address, family } = await resolveAddress(spec);
    const routes = await deps.routes.lookup([address], AbortSignal.any([signal, AbortSignal.timeout(ROUTE_TIMEOUT_MS)]));
    const route = routes.get(address);
    if (route === undefined) throw new AppError(ErrorCodes.NET_ERR_ROUTE, `no route to ${address}`);
    const srcText = spec.source ?? route.prefsrc;
    const src = srcText === null ? null : parseIp(srcText);
    if (src === null || src.length !== (family === 4 ? 4 : 16)) {
      throw refuse(`no IPv${family} source address to reach ${address} via ${route.dev}${spec.source === undefined ? '' : ` (source ${spec.source})`}`);
    }
    const capture = deps.engine.captureFor(route.dev);
    const probes = new FlowProbes({
      protocol: spec.protocol, family, src, dst: parseIp(address)!, address,
      dstPort: spec.port ?? (spec.protocol === 'tcp' ? TCP_DEFAULT_PORT : UDP_DEFAULT_PORT),
      size: spec.size, dscp: spec.dscp, capture, timeoutMs: Math.round(spec.timeout * 1000), kinds: deps.kinds,
    }, (operations++ * 7) % OPERATION_PORT_COUNT);
    const resolve = spec.kind !== 'ping' && spec.resolve;
    const asn = spec.kind !== 'ping' && spec.asn;
    const notes = new HopAnnotations(deps.annotator, { names: resolve, asns: asn }, emit, deps.clock);
    return { spec, family, address, probes, waits: new ProbeWaits(deps.engine, signal), signal, emit, notes, seq: 0, closed: false };
  }

  /** sends one probe and reports it as a `probe` event */
  async function probe(op: Op, ttl: number, flow: number, traced: boolean): Promise<ProbeReply> {
    const seq = op.seq++;
    const a = await op.waits.send(op.probes.probe(ttl, flow));
    const paths = op.spec.kind === 'traceroute' ? op.spec.paths : 1;
    const reply = probeReply(a, op.family, seq, traced ? ttl : undefined, traced && paths > 1 ? flow : undefined);
    if (!op.signal.aborted && !op.closed) op.emit({ type: 'probe', reply });
    if (reply.from !== null) op.notes.see(reply.from);
    return reply;
  }

  const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (signal.aborted || ms <= 0) return resolve();
      const t = deps.clock.setTimer(ms, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = (): void => {
        t.cancel();
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });

  async function ping(op: Op, spec: PingSpec): Promise<{ paths: HopStats[][]; reached: boolean }> {
    const hop = new HopAccumulator(0);
    const pending: Promise<void>[] = [];
    const start = deps.clock.monoMs();
    let reached = false;
    for (let i = 0; i < spec.count && !op.signal.aborted; i++) {
      await sleep(start + i * spec.interval * 1000 - deps.clock.monoMs(), op.signal);
      if (op.signal.aborted) break;
      pending.push(probe(op, PING_TTL, 0, false).then((r) => {
        const answered = r.kind === 'reply' && r.from === op.address;
        if (answered) reached = true;
        hop.add(answered ? r.from : null, answered ? r.rttMs : null);
      }));
    }
    await Promise.all(pending);
    return { paths: [[hop.stats(op.notes.names, op.notes.asns)]], reached };
  }

  /** what an answer at `ttl` tells a trace: its hop's sample, and whether the trace ends there */
  function record(op: Op, t: Trace, ttl: number, r: ProbeReply): void {
    t.hops[ttl - 1]!.add(r.from, r.rttMs);
    if (r.kind === 'reply' || r.kind === 'unreachable') {
      if (ttl < t.limit) t.limit = ttl;
      if (r.kind === 'reply' && r.from === op.address) t.reached = true;
    }
  }

  /**
   * Probes the TTLs 1..t.limit of one flow, at most WINDOW TTLs at once, `queries` probes per
   * TTL one after the other; calls `onHop` for each TTL done, in TTL order. TTLs found beyond
   * the trace's end are not waited for.
   */
  async function sweep(op: Op, t: Trace, queries: number, onHop: (ttl: number) => void): Promise<void> {
    const done = new Uint8Array(t.hops.length + 2);
    let next = 1;
    let reported = 0;
    let running = 0;
    await new Promise<void>((finish) => {
      let finished = false;
      const check = (): void => {
        while (reported < t.limit && done[reported + 1] === 1) onHop(++reported);
        const idle = running === 0 && (next > t.limit || op.signal.aborted);
        if (!finished && (reported >= t.limit || idle)) {
          finished = true;
          finish();
        }
      };
      const runTtl = async (ttl: number): Promise<void> => {
        for (let q = 0; q < queries && ttl <= t.limit && !op.signal.aborted; q++) record(op, t, ttl, await probe(op, ttl, t.flow, true));
      };
      const fill = (): void => {
        while (running < WINDOW && next <= t.limit && !op.signal.aborted) {
          const ttl = next++;
          running++;
          void runTtl(ttl).then(() => {
            running--;
            done[ttl] = 1;
            fill();
          });
        }
        check();
      };
      fill();
    });
  }

  function newTrace(flow: number, maxHops: number): Trace {
    return { flow, hops: Array.from({ length: maxHops }, (_, i) => new HopAccumulator(i + 1)), limit: maxHops, reached: false };
  }

  const hopsOf = (op: Op, t: Trace): HopStats[] =>
    t.hops.slice(0, t.limit).map((h) => h.stats(op.notes.names, op.notes.asns));

  async function traceroute(op: Op, spec: TracerouteSpec): Promise<{ paths: HopStats[][]; reached: boolean }> {
    const traces = Array.from({ length: spec.paths }, (_, flow) => newTrace(flow, spec.maxHops));
    await Promise.all(traces.map((t) =>
      sweep(op, t, spec.queries, (ttl) => {
        if (!op.signal.aborted) op.emit({ type: 'hop', path: t.flow, hop: t.hops[ttl - 1]!.stats(op.notes.names, op.notes.asns) });
      })));
    await op.notes.settle();
    return { paths: distinctPaths(traces.map((t) => hopsOf(op, t))).map((p) => [...p]), reached: traces.some((t) => t.reached) };
  }

  async function mtr(op: Op, spec: MtrSpec): Promise<{ paths: HopStats[][]; reached: boolean }> {
    const t = newTrace(0, spec.maxHops);
    const start = deps.clock.monoMs();
    for (let c = 0; c < spec.cycles && !op.signal.aborted; c++) {
      await sleep(start + c * spec.interval * 1000 - deps.clock.monoMs(), op.signal);
      if (op.signal.aborted) break;
      await sweep(op, t, 1, () => undefined);
      if (op.signal.aborted) break;
      for (let ttl = 1; ttl <= t.limit; ttl++) op.emit({ type: 'hop', path: 0, hop: t.hops[ttl - 1]!.stats(op.notes.names, op.notes.asns) });
    }
    await op.notes.settle();
    return { paths: [hopsOf(op, t)], reached: t.reached };
  }

  return {
    async run(spec, onEvent, signal) {
      const startedMs = deps.clock.wallMs();
      const ac = new AbortController();
      const timer = deps.clock.setTimer(limits.maxDurationMs, () => ac.abort());
      const inner = AbortSignal.any([signal, ac.signal]);
      try {
        const op = await prepare(spec, inner, onEvent);
        onEvent({ type: 'start', spec, address: op.address });
        const out = spec.kind === 'ping' ? await ping(op, spec) : spec.kind === 'traceroute' ? await traceroute(op, spec) : await mtr(op, spec);
        op.closed = true;
        const received = spec.kind === 'ping' ? out.paths[0]![0]!.received : op.waits.answered;
        const result: OperationResult = {
          kind: spec.kind, destination: spec.destination, address: op.address, reached: out.reached,
          sent: op.waits.sent, received, paths: out.paths, startedMs, endedMs: deps.clock.wallMs(),
        };
        onEvent({ type: 'done', result });
        deps.log.debug('operation done', { kind: spec.kind, address: op.address, sent: result.sent, reached: result.reached });
        return result;
      } finally {
        timer.cancel();
      }
    },
  };
}

