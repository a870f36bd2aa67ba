/**
 * The probe engine: sends probes through shared raw sockets, captures requests and replies on
 * one pcap per egress interface, decodes captured frames in the worker pool, and matches
 * replies to probes by identifier. RTT = kernel timestamp of the captured reply minus kernel
 * timestamp of the captured request. Protocol-agnostic: each probe type (src/probes/) brings its
 * capture clause and its matcher (net/probe-types.ts), and decoded frames name their type.
 * Main thread only.
 */
import { FrameRole, packFrame, recordSize, type DecodedBatch } from '../packet/probe-frame.js';
import type { EngineCounters, EngineProbeType, MatchContext, ProbeMatcher, WireProbe } from './probe-types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { errorMessage } from '../lib/errors.js';
import { formatIp } from '../lib/address.js';
import { CaptureSet, MIN_RING_BYTES, ringBytesFor, type CaptureCounters } from './capture-set.js';
import { DeadlineQueue, SlotState, SlotTable } from './slots.js';
import {
  Outcome,
  type CaptureFactory,
  type Family,
  type FrameDecoder,
  type OutcomeSink,
  type RawSender,
} from './types.js';

/** the slot space: 16 ICMP identifiers × 65536 sequence numbers (see probes/icmp.ts) */
const IDS = 16;
const BATCH_BYTES = 128 * 1024;
/** extra time a settled probe's identifier stays unused, beyond twice its timeout */
const QUARANTINE_MS = 1000;
/**
 * How long past its deadline a probe waits for its capture to catch up (every frame the kernel
 * delivered before the deadline read) before it settles as indeterminate.
 */
const CAPTURE_WAIT_MS = 2000;
/** kindOf mark of a slot whose probe settled as lost (an answer found later is false loss) */
const LOST_MARK = 0x80;

export interface EngineDeps {
  readonly sender: RawSender;
  readonly captures: CaptureFactory;
  readonly decoder: FrameDecoder;
  readonly clock: Clock;
  readonly log: Logger;
  /** ICMP identifier block start (multiple of 16); random per process by default */
  readonly idBase: number;
  /** capture buffer timeout (ms): how late the kernel may hand us frames */
  readonly captureDelayMs: number;
  /**
   * how often in-flight probes are reaped (ms), at multiples of it in monotonic time; a multiple
   * of the probing loop's send grid keeps its wake-ups shared with the sends (see setPumpMs)
   */
  readonly pumpMs: number;
  /** the probe types, in the order of their numbers (WireProbe.kind, decoded frame kinds) */
  readonly probes: readonly EngineProbeType[];
  /** our source-port ranges in use, by probe type (they shape the capture filter) */
  readonly sourcePorts: SourcePorts;
  /** base of TCP sequence numbers (random per process by default) */
  readonly seqBase: number;
  /**
   * An answer from a probed address that matches none of our probes, by the reason its type
   * gives (for example 'tcp_ack', 'tcp_port', 'udp_port': see the probe types' `unmatched`).
   */
  readonly onUnmatched?: (what: string, peerHash: number) => void;
  /** source-port ranges always admitted besides the targets' (the on-demand operations') */
  readonly reservedPorts?: SourcePorts;
}

/** Source-port ranges by probe type name; a type missing has none. */
export type SourcePorts = Readonly<Record<string, readonly (readonly [number, number])[]>>;

export class Engine {
  readonly #d: EngineDeps;
  readonly #slots = new SlotTable(IDS * 65536);
  /** by probe type number */
  readonly #matchers: readonly ProbeMatcher[];
  /** per slot: the type number of its probe */
  readonly #kindOf = new Uint8Array(this.#slots.capacity);
  readonly #queues = new Map<number, DeadlineQueue>();
  readonly #captures: CaptureSet;
  readonly #batch = new Uint8Array(BATCH_BYTES);
  #used = 0;
  #batchLink = -1;
  #chain: Promise<void> = Promise.resolve();
  #timer: TimerHandle | null = null;
  #pumpMs: number;
  #pumping = false;
  /** a flush of what a capture handed over is queued (see #onFrame) */
  #flushQueued = false;
  /** the last reap stopped at a probe whose capture was not yet known complete */
  #reapBlocked = false;
  #closed = false;
  readonly counters: EngineCounters = {
    sent: 0, sendErrors: 0, matched: 0, late: 0, duplicates: 0, unmatched: 0,
    txNotCaptured: 0, icmpErrors: 0, rstSent: 0, slotsExhausted: 0, decodeErrors: 0, answeredAfterLoss: 0, captureBehind: 0,
  };

  constructor(deps: EngineDeps) {
    this.#d = deps;
    this.#pumpMs = deps.pumpMs;
    const ctx: MatchContext = {
      capacity: this.#slots.capacity,
      idBase: deps.idBase,
      seqBase: deps.seqBase,
      counters: this.counters,
      transmit: (family, protocol, packet, length, dst) => this.#transmitOwn(family, protocol, packet, length, dst),
      unmatched: (what, peerHash) => deps.onUnmatched?.(what, peerHash),
    };
    this.#matchers = deps.probes.map((p) => p.createMatcher(ctx));
    const filter = captureFilter(deps.probes, deps.idBase, withReserved(deps.sourcePorts, deps.reservedPorts));
    this.#captures = new CaptureSet(deps.captures, filter, MIN_RING_BYTES, (link, sec, usec, frame, caplen) => this.#onFrame(link, sec, usec, frame, caplen), deps.log);
  }

  /**
   * The reap period (ms), from the next arming on: the probing loop sets it to follow its send
   * grid, which grows as the probe rate falls.
   */
  setPumpMs(ms: number): void {
    this.#pumpMs = ms;
  }

  /**
   * The probe rate the targets ask for (probes/s): the captures' rings follow it (ringBytesFor;
   * a capture is replaced only when the size changes). Until the first call they are the smallest.
   */
  setRequestedRate(probesPerSecond: number): void {
    this.#captures.setRingBytes(ringBytesFor(probesPerSecond));
  }

  /** New source-port ranges (config reload): the captures follow (see CaptureSet.setFilter). */
  setPortRanges(sourcePorts: SourcePorts): void {
    this.#captures.setFilter(captureFilter(this.#d.probes, this.#d.idBase, withReserved(sourcePorts, this.#d.reservedPorts)));
  }

  get inFlight(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  /** Index of the capture on `iface`, opening it on first use. */
  captureFor(iface: string): number {
    return this.#captures.indexFor(iface);
  }

  captureCounters(): CaptureCounters[] {
    return this.#captures.counters();
  }

  /** a slot for a new probe, or -1 (the sink has been told) */
  #alloc(sink: OutcomeSink, index: number): number {
    const s = this.#slots.alloc(this.#d.clock.monoMs());
    if (s < 0) {
      this.counters.slotsExhausted++;
      sink.onOutcome(index, Outcome.SEND_ERROR, NaN);
    }
    return s;
  }

  /**
   * Sends one probe: a slot for it, its identity written into its packet by its type, then
   * tracked until its outcome reaches `sink` with `index`.
   */
  send(p: WireProbe, sink: OutcomeSink, index: number): void {
    const s = this.#alloc(sink, index);
    if (s < 0) return;
    const m = this.#matchers[p.kind]!;
    const t = this.#slots;
    if (!m.bind(s, p)) {
      t.free(s);
      this.counters.slotsExhausted++;
      sink.onOutcome(index, Outcome.SEND_ERROR, NaN);
      return;
    }
    try {
      this.#d.sender.send(p.family, p.protocol, p.wire, p.length, p.dst);
    } catch (e) {
      m.release(s);
      t.free(s);
      this.counters.sendErrors++;
      this.#d.log.debug('send failed', { dst: p.dst, err: errorMessage(e) });
      sink.onOutcome(index, Outcome.SEND_ERROR, NaN);
      return;
    }
    this.counters.sent++;
    this.#kindOf[s] = p.kind;
    t.sentMono[s] = this.#d.clock.monoMs();
    t.timeoutUs[s] = p.timeoutMs * 1000;
    t.peer[s] = p.peerHash;
    t.capture[s] = p.capture;
    t.index[s] = index;
    t.owner[s] = sink;
    let q = this.#queues.get(p.timeoutMs);
    if (!q) {
      q = new DeadlineQueue(p.timeoutMs);
      this.#queues.set(p.timeoutMs, q);
    }
    q.push(s);
    this.#arm();
  }

  /** a packet a probe type sends of its own accord (MatchContext.transmit) */
  #transmitOwn(family: Family, protocol: number, packet: Buffer, length: number, dst: string): boolean {
    try {
      this.#d.sender.send(family, protocol, packet, length, dst);
      return true;
    } catch (e) {
      this.#d.log.debug('send failed', { dst, err: errorMessage(e) });
      return false;
    }
  }

  #onFrame(linkType: number, sec: number, usec: number, frame: Uint8Array, caplen: number): void {
    if (!this.#flushQueued) {
      // the frames of one capture wake-up are applied right after it (in its microtask
      // checkpoint, no wake-up of its own), not at the next pump: answers that call for a packet
      // (a TCP RST) or settle a round do not wait for the reap period
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
    const need = recordSize(caplen);
    if (this.#used + need > this.#batch.length || (this.#batchLink !== linkType && this.#used > 0)) {
      this.#dispatchBatch();
    }
    this.#batchLink = linkType;
    this.#used = packFrame(this.#batch, this.#used, sec, usec, linkType, frame, caplen);
  }

  /**
   * After frames were handed over: applies them; and when the last reap waited for a capture to
   * be complete, pumps instead (the wake-up that handed over the frames it waited for settles
   * its probes, not the next pump).
   */
  #flush(): void {
    this.#flushQueued = false;
    if (this.#reapBlocked && !this.#pumping && !this.#closed) void this.pump();
    else this.#dispatchBatch();
  }

  /** Hands the current batch to the decoder; results are applied strictly in capture order. */
  #dispatchBatch(): void {
    if (this.#used === 0) return;
    // hand over an exact-size copy and keep the big buffer: allocation follows the traffic
    const used = this.#used;
    const batch = this.#batch.slice(0, used);
    this.#used = 0;
    const decoded = this.#d.decoder.decode(batch, used);
    this.#chain = this.#chain.then(
      () => decoded.then((b) => this.#apply(b)),
    ).catch((e: unknown) => {
      this.counters.decodeErrors++;
      this.#d.log.warn('frame batch decode failed', { err: errorMessage(e) });
    });
  }

  #apply(b: DecodedBatch): void {
    const t = this.#slots;
    for (let i = 0; i < b.count; i++) {
      const kind = b.kind[i]!;
      const type = kind >>> 2;
      const role = kind & 3;
      const m = this.#matchers[type];
      if (m === undefined) {
        this.counters.unmatched++;
        continue;
      }
      const s = m.slotOf(b, i, role);
      const ts = b.tsUs[i]!;
      const known = s >= 0 && t.state[s] !== SlotState.FREE && this.#kindOf[s] === type && t.peer[s] === b.peerHash[i];
      if (!known || !m.owns(s, b, i)) {
        this.counters.unmatched++;
        if (s >= 0 && role !== FrameRole.REQUEST && this.#kindOf[s] === (type | LOST_MARK) && t.peer[s] === b.peerHash[i] && this.#inTime(s, ts)) {
          // the answer of a probe already counted lost, within its timeout: false loss
          this.counters.answeredAfterLoss++;
          this.#kindOf[s] = type;
        }
        m.unmatched(b, i, role, known);
        continue;
      }
      if (role === FrameRole.REQUEST) {
        if (t.txUs[s] === 0) t.txUs[s] = ts;
        continue;
      }
      if (t.state[s] !== SlotState.PENDING) {
        this.counters.duplicates++;
        continue;
      }
      const answer = m.answer(s, b, i, role);
      if (answer === Outcome.ICMP_ERROR) this.counters.icmpErrors++;
      this.#complete(s, ts, answer, b, i, role);
    }
  }

  /** an answer stamped `rxUs` is within the timeout of slot `s`'s request (whose frame was captured) */
  #inTime(s: number, rxUs: number): boolean {
    const tx = this.#slots.txUs[s]!;
    return tx !== 0 && rxUs >= tx && rxUs - tx <= this.#slots.timeoutUs[s]!;
  }

  /** settles slot `s` with the answer frame `i` of `b` */
  #complete(s: number, rxUs: number, answer: Outcome, b: DecodedBatch, i: number, role: number): void {
    const t = this.#slots;
    const tx = t.txUs[s]!;
    const rttUs = rxUs - tx;
    if (tx !== 0 && rttUs < 0) {
      // an answer older than our request: meant for an earlier user of this slot
      this.counters.unmatched++;
      return;
    }
    const sink = t.owner[s] as OutcomeSink;
    t.state[s] = SlotState.DONE;
    t.owner[s] = undefined;
    if (tx !== 0 && rttUs > t.timeoutUs[s]!) {
      this.counters.late++;
      sink.onOutcome(t.index[s]!, Outcome.LOST, NaN);
      return;
    }
    if (tx === 0) this.counters.txNotCaptured++;
    this.counters.matched++;
    const rtt = tx === 0 ? NaN : rttUs / 1e6;
    if (sink.onAnswer === undefined) {
      sink.onOutcome(t.index[s]!, answer, rtt);
      return;
    }
    const from = formatIp(b.origin, i * 16, b.family[i] === 4 ? 4 : 16);
    sink.onAnswer(t.index[s]!, answer, rtt, from, role === FrameRole.ERROR ? b.aux[i]! : -1);
  }

  #arm(): void {
    if (this.#timer || this.#closed) return;
    // on the grid of multiples of pumpMs (absolute monotonic time), within pumpMs from now: the
    // probing loop sends on a grid that divides it, so one wake-up serves both
    const now = this.#d.clock.monoMs();
    const pump = this.#pumpMs;
    this.#timer = this.#d.clock.setTimer(Math.floor(now / pump) * pump + pump - now, () => {
      this.#timer = null;
      void this.pump();
    });
  }

  /**
   * Reads what the captures hold, applies decoded frames, then settles every probe whose
   * deadline is certainly past: any reply to it would have been captured and applied by now.
   * That takes the buffer timeout after the deadline, and a capture complete up to then: every
   * frame the kernel wrote into its ring before then has been read (CaptureSet.completeMono). A
   * probe whose capture stays behind for CAPTURE_WAIT_MS past that settles as indeterminate.
   */
  async pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      const start = this.#d.clock.monoMs();
      this.#captures.pollAll();
      // the statistics right after the poll, in the same tick: a drop they show happened before
      // now, and every frame read so far is applied before the reap
      this.#captures.checkDrops(this.#d.clock.monoMs());
      this.#dispatchBatch();
      await this.#chain;
      this.#reap(start - this.#d.captureDelayMs - 5);
    } finally {
      this.#pumping = false;
      if (this.inFlight > 0 || this.#used > 0) this.#arm();
    }
  }

  #reap(cutoffMono: number): void {
    const t = this.#slots;
    const margin = this.#d.captureDelayMs + 5;
    this.#reapBlocked = false;
    for (const q of this.#queues.values()) {
      while (q.length > 0) {
        const s = q.peek();
        const deadline = t.sentMono[s]! + q.timeoutMs;
        if (deadline > cutoffMono) break;
        const pending = t.state[s] === SlotState.PENDING;
        const cap = t.capture[s]!;
        const behind = pending && deadline + margin > this.#captures.completeMono(cap);
        if (behind && deadline + CAPTURE_WAIT_MS > cutoffMono) {
          this.#reapBlocked = true;
          break;
        }
        q.shift();
        const kind = this.#kindOf[s]!;
        // quarantine: a very late reply must find this slot free, not a newer probe in it
        this.#matchers[kind]!.release(s);
        if (pending) {
          const sink = t.owner[s] as OutcomeSink;
          if (behind) this.counters.captureBehind++;
          const blind = behind || this.#captures.lastDropMono(cap) >= t.sentMono[s]!;
          if (!blind) this.#kindOf[s] = kind | LOST_MARK;
          sink.onOutcome(t.index[s]!, blind ? Outcome.INDETERMINATE : Outcome.LOST, NaN);
        }
        t.free(s, t.sentMono[s]! + 2 * q.timeoutMs + QUARANTINE_MS);
      }
    }
  }

  /** Stops sending, settles what can be settled within `drainMs`, closes sockets and captures. */
  async close(drainMs: number): Promise<void> {
    const deadline = this.#d.clock.monoMs() + drainMs;
    while (this.inFlight > 0 && this.#d.clock.monoMs() < deadline) {
      await this.pump();
      await new Promise<void>((r) => this.#d.clock.setTimer(this.#pumpMs, r));
    }
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
    this.#captures.closeAll();
    this.#d.sender.close();
  }
}

/** The BPF filter of every capture: each probe type's clause, for the source ports it uses. */
function captureFilter(probes: readonly EngineProbeType[], idBase: number, sourcePorts: SourcePorts): string {
  const parts: string[] = [];
  for (const p of probes) {
    const clause = p.filter({ idBase, ports: sourcePorts[p.type] ?? [] });
    if (clause !== null) parts.push(`(${clause})`);
  }
  return parts.join(' or ');
}

/** The targets' source-port ranges with the reserved ones added, by probe type. */
function withReserved(ports: SourcePorts, reserved: SourcePorts | undefined): SourcePorts {
  if (reserved === undefined) return ports;
  const out: Record<string, readonly (readonly [number, number])[]> = { ...ports };
  for (const [type, ranges] of Object.entries(reserved)) out[type] = [...(out[type] ?? []), ...ranges];
  return out;
}

/** A random ICMP identifier block for this process. */
export function randomIdBase(): number {
  return (1 + Math.floor(Math.random() * 0xffe)) << 4;
}
