/**
 * The probe engine: sends probes through shared raw sockets, captures requests and replies on
 * one pcap per egress interface, decodes captured frames in the worker pool, and matches
 * replies to probes by identifier. RTT = kernel timestamp of the captured reply minus kernel
 * timestamp of the captured request. Main thread only.
 */
import { FrameKind, packFrame, recordSize, type DecodedBatch } from '../packet/probe-frame.js';
import { echoFilter } from '../packet/bpf.js';
import type { EchoTemplate } from '../packet/icmp.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { errorMessage } from '../lib/errors.js';
import { DeadlineQueue, SlotState, SlotTable } from './slots.js';
import {
  Outcome,
  type Capture,
  type CaptureFactory,
  type Family,
  type FrameDecoder,
  type OutcomeSink,
  type RawSender,
} from './types.js';

const IDS = 16;
const BATCH_BYTES = 128 * 1024;
/** extra time a settled probe's identifier stays unused, beyond twice its timeout */
const QUARANTINE_MS = 1000;

export interface EchoProbe {
  readonly family: Family;
  /** canonical destination address */
  readonly dst: string;
  /** addrHash of the destination bytes */
  readonly peerHash: number;
  readonly template: EchoTemplate;
  /** a Buffer view of template.bytes, made once */
  readonly wire: Buffer;
  /** index returned by Engine.captureFor() */
  readonly capture: number;
  readonly timeoutMs: number;
}

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
  /** how often in-flight probes are matched and reaped (ms) */
  readonly pumpMs: number;
}

export interface EngineCounters {
  sent: number;
  sendErrors: number;
  matched: number;
  late: number;
  duplicates: number;
  unmatched: number;
  txNotCaptured: number;
  slotsExhausted: number;
  decodeErrors: number;
}

export interface CaptureCounters {
  readonly iface: string;
  readonly received: number;
  readonly dropped: number;
}

interface CaptureState {
  readonly cap: Capture;
  dropped: number;
  received: number;
  /** monotonic time of the last check that found new drops */
  lastDropMono: number;
}

export class Engine {
  readonly #d: EngineDeps;
  readonly #slots = new SlotTable(IDS * 65536);
  readonly #queues = new Map<number, DeadlineQueue>();
  readonly #captures: CaptureState[] = [];
  readonly #captureByIface = new Map<string, number>();
  readonly #batch = new Uint8Array(BATCH_BYTES);
  #used = 0;
  #batchLink = -1;
  #chain: Promise<void> = Promise.resolve();
  #timer: TimerHandle | null = null;
  #pumping = false;
  #closed = false;
  readonly counters: EngineCounters = {
    sent: 0, sendErrors: 0, matched: 0, late: 0, duplicates: 0, unmatched: 0,
    txNotCaptured: 0, slotsExhausted: 0, decodeErrors: 0,
  };

  constructor(deps: EngineDeps) {
    this.#d = deps;
  }

  get inFlight(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  /** Index of the capture on `iface`, opening it on first use. */
  captureFor(iface: string): number {
    const known = this.#captureByIface.get(iface);
    if (known !== undefined) return known;
    const idx = this.#captures.length;
    const cap = this.#d.captures.open(iface, echoFilter(this.#d.idBase), (sec, usec, frame, caplen) =>
      this.#onFrame(cap.linkType, sec, usec, frame, caplen),
    );
    this.#captures.push({ cap, dropped: 0, received: 0, lastDropMono: -Infinity });
    this.#captureByIface.set(iface, idx);
    this.#d.log.info('capture opened', { iface, link_type: cap.linkType });
    return idx;
  }

  captureCounters(): CaptureCounters[] {
    return this.#captures.map((c) => ({ iface: c.cap.iface, received: c.received, dropped: c.dropped }));
  }

  sendEcho(p: EchoProbe, sink: OutcomeSink, index: number): void {
    const t = this.#slots;
    const now = this.#d.clock.monoMs();
    const s = t.alloc(now);
    if (s < 0) {
      this.counters.slotsExhausted++;
      sink.onOutcome(index, Outcome.SEND_ERROR, NaN);
      return;
    }
    p.template.stamp(this.#d.idBase + (s >>> 16), s & 0xffff);
    try {
      this.#d.sender.send(p.family, p.family === 4 ? 1 : 58, p.wire, p.template.length, p.dst);
    } catch (e) {
      t.free(s);
      this.counters.sendErrors++;
      this.#d.log.debug('send failed', { dst: p.dst, err: errorMessage(e) });
      sink.onOutcome(index, Outcome.SEND_ERROR, NaN);
      return;
    }
    this.counters.sent++;
    t.sentMono[s] = now;
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

  #onFrame(linkType: number, sec: number, usec: number, frame: Uint8Array, caplen: number): void {
    const need = recordSize(caplen);
    if (this.#used + need > this.#batch.length || (this.#batchLink !== linkType && this.#used > 0)) {
      this.#dispatchBatch();
    }
    this.#batchLink = linkType;
    this.#used = packFrame(this.#batch, this.#used, sec, usec, linkType, frame, caplen);
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
    const base = this.#d.idBase;
    for (let i = 0; i < b.count; i++) {
      const kind = b.kind[i];
      if (kind !== FrameKind.ECHO_REQUEST && kind !== FrameKind.ECHO_REPLY) {
        this.counters.unmatched++;
        continue;
      }
      const idOff = (b.id[i]! - base) & 0xffff;
      if (idOff >= IDS) {
        this.counters.unmatched++;
        continue;
      }
      const s = (idOff << 16) | b.seq[i]!;
      const st = t.state[s];
      if (st === SlotState.FREE || t.peer[s] !== b.peerHash[i]) {
        this.counters.unmatched++;
        continue;
      }
      const ts = b.tsUs[i]!;
      if (kind === FrameKind.ECHO_REQUEST) {
        if (t.txUs[s] === 0) t.txUs[s] = ts;
        continue;
      }
      if (st !== SlotState.PENDING) {
        this.counters.duplicates++;
        continue;
      }
      this.#complete(s, ts);
    }
  }

  #complete(s: number, rxUs: number): void {
    const t = this.#slots;
    const tx = t.txUs[s]!;
    const sink = t.owner[s] as OutcomeSink;
    t.state[s] = SlotState.DONE;
    t.owner[s] = undefined;
    if (tx === 0) {
      this.counters.txNotCaptured++;
      this.counters.matched++;
      sink.onOutcome(t.index[s]!, Outcome.OK, NaN);
      return;
    }
    const rttUs = rxUs - tx;
    if (rttUs < 0) {
      // a reply older than our request: a stale answer to an earlier user of this slot
      t.state[s] = SlotState.PENDING;
      t.owner[s] = sink;
      this.counters.unmatched++;
      return;
    }
    if (rttUs > t.timeoutUs[s]!) {
      this.counters.late++;
      sink.onOutcome(t.index[s]!, Outcome.LOST, NaN);
      return;
    }
    this.counters.matched++;
    sink.onOutcome(t.index[s]!, Outcome.OK, rttUs / 1e6);
  }

  #arm(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = this.#d.clock.setTimer(this.#d.pumpMs, () => {
      this.#timer = null;
      void this.pump();
    });
  }

  /**
   * Reads what the captures hold, applies decoded frames, then settles every probe whose
   * deadline is certainly past: any reply to it would have been captured and applied by now.
   */
  async pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      const start = this.#d.clock.monoMs();
      for (const c of this.#captures) c.cap.poll();
      this.#dispatchBatch();
      await this.#chain;
      this.#checkDrops(start);
      this.#reap(start - this.#d.captureDelayMs - 5);
    } finally {
      this.#pumping = false;
      if (this.inFlight > 0 || this.#used > 0) this.#arm();
    }
  }

  #checkDrops(now: number): void {
    for (const c of this.#captures) {
      const s = c.cap.stats();
      const dropped = s.dropped + s.ifDropped;
      if (dropped > c.dropped) c.lastDropMono = now;
      c.dropped = dropped;
      c.received = s.received;
    }
  }

  #reap(cutoffMono: number): void {
    const t = this.#slots;
    for (const q of this.#queues.values()) {
      while (q.length > 0) {
        const s = q.peek();
        if (t.sentMono[s]! + q.timeoutMs > cutoffMono) break;
        q.shift();
        if (t.state[s] === SlotState.PENDING) {
          const sink = t.owner[s] as OutcomeSink;
          const cap = this.#captures[t.capture[s]!];
          const blind = cap !== undefined && cap.lastDropMono >= t.sentMono[s]!;
          sink.onOutcome(t.index[s]!, blind ? Outcome.INDETERMINATE : Outcome.LOST, NaN);
        }
        // quarantine: a very late reply must find this slot free, not a newer probe in it
        t.free(s, t.sentMono[s]! + 2 * q.timeoutMs + QUARANTINE_MS);
      }
    }
  }

  /** Stops sending, settles what can be settled within `drainMs`, closes sockets and captures. */
  async close(drainMs: number): Promise<void> {
    const deadline = this.#d.clock.monoMs() + drainMs;
    while (this.inFlight > 0 && this.#d.clock.monoMs() < deadline) {
      await this.pump();
      await new Promise<void>((r) => this.#d.clock.setTimer(this.#d.pumpMs, r));
    }
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
    for (const c of this.#captures) c.cap.close();
    this.#d.sender.close();
  }
}

/** A random ICMP identifier block for this process. */
export function randomIdBase(): number {
  return (1 + Math.floor(Math.random() * 0xffe)) << 4;
}
