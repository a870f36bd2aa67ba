/**
 * The probe engine: sends probes through shared raw sockets, captures requests and replies on
 * one pcap per egress interface, decodes captured frames in the worker pool, and matches
 * replies to probes by identifier. RTT = kernel timestamp of the captured reply minus kernel
 * timestamp of the captured request. Main thread only.
 */
import { FrameKind, packFrame, recordSize, type DecodedBatch } from '../packet/probe-frame.js';
import { echoFilter, tcpFilter, udpFilter } from '../packet/bpf.js';
import { ICMP4_DEST_UNREACH, ICMP6_DEST_UNREACH } from '../packet/icmp.js';
import { ICMP4_CODE_PORT_UNREACH, ICMP6_CODE_PORT_UNREACH } from '../packet/icmp-error.js';
import { TCP_ACK, TCP_SYN, writeTcpRst } from '../packet/tcp.js';
import { L4Ids } from './l4-ids.js';
import type { EchoProbe, ProbeBase, TcpProbe, UdpProbe } from './probe-types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { errorMessage } from '../lib/errors.js';
import { CaptureSet, type CaptureCounters } from './capture-set.js';
import { DeadlineQueue, SlotState, SlotTable } from './slots.js';
import {
  Outcome,
  type CaptureFactory,
  type FrameDecoder,
  type OutcomeSink,
  type RawSender,
} from './types.js';

const IDS = 16;
const BATCH_BYTES = 128 * 1024;
/** extra time a settled probe's identifier stays unused, beyond twice its timeout */
const QUARANTINE_MS = 1000;

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
  /** our source-port ranges for TCP and UDP probes (they shape the capture filter) */
  readonly tcpPorts: readonly [number, number][];
  readonly udpPorts: readonly [number, number][];
  /** base of TCP sequence numbers (random per process by default) */
  readonly seqBase: number;
  /**
   * An answer from a probed address that matches none of our probes: a TCP reply whose
   * acknowledgement matches no SYN of ours ('tcp_ack') or whose ports differ from the SYN's
   * ('tcp_port'), an ICMP error quoting a UDP probe of ours with other ports ('udp_port').
   */
  readonly onUnmatched?: (what: 'tcp_ack' | 'tcp_port' | 'udp_port', peerHash: number) => void;
}

export interface EngineCounters {
  sent: number;
  sendErrors: number;
  matched: number;
  late: number;
  duplicates: number;
  unmatched: number;
  txNotCaptured: number;
  icmpErrors: number;
  rstSent: number;
  slotsExhausted: number;
  decodeErrors: number;
}

export class Engine {
  readonly #d: EngineDeps;
  readonly #slots = new SlotTable(IDS * 65536);
  readonly #l4: L4Ids;
  /** per slot: the TCP probe, for the RST after its SYN-ACK */
  readonly #tcpOf: (TcpProbe | undefined)[] = [];
  /** source number of the SYN in slot s, for probes with a source round robin */
  readonly #tcpSrc: number[] = [];
  readonly #rstBuf = Buffer.alloc(128);
  readonly #queues = new Map<number, DeadlineQueue>();
  readonly #captures: CaptureSet;
  readonly #batch = new Uint8Array(BATCH_BYTES);
  #used = 0;
  #batchLink = -1;
  #chain: Promise<void> = Promise.resolve();
  #timer: TimerHandle | null = null;
  #pumping = false;
  #closed = false;
  readonly counters: EngineCounters = {
    sent: 0, sendErrors: 0, matched: 0, late: 0, duplicates: 0, unmatched: 0,
    txNotCaptured: 0, icmpErrors: 0, rstSent: 0, slotsExhausted: 0, decodeErrors: 0,
  };

  constructor(deps: EngineDeps) {
    this.#d = deps;
    this.#l4 = new L4Ids(this.#slots.capacity, deps.seqBase);
    const filter = captureFilter(deps.idBase, deps.tcpPorts, deps.udpPorts);
    this.#captures = new CaptureSet(deps.captures, filter, (link, sec, usec, frame, caplen) => this.#onFrame(link, sec, usec, frame, caplen), deps.log);
  }

  /** New source-port ranges (config reload): the captures follow (see CaptureSet.setFilter). */
  setPortRanges(tcpPorts: readonly [number, number][], udpPorts: readonly [number, number][]): void {
    this.#captures.setFilter(captureFilter(this.#d.idBase, tcpPorts, udpPorts));
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

  /** sends the stamped packet of slot `s` and tracks it; false if the kernel refused it */
  #transmit(s: number, p: ProbeBase, protocol: number, wire: Buffer, length: number, sink: OutcomeSink, index: number): boolean {
    const t = this.#slots;
    try {
      this.#d.sender.send(p.family, protocol, wire, length, p.dst);
    } catch (e) {
      this.#l4.release(s);
      t.free(s);
      this.counters.sendErrors++;
      this.#d.log.debug('send failed', { dst: p.dst, err: errorMessage(e) });
      sink.onOutcome(index, Outcome.SEND_ERROR, NaN);
      return false;
    }
    this.counters.sent++;
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
    return true;
  }

  sendEcho(p: EchoProbe, sink: OutcomeSink, index: number): void {
    const s = this.#alloc(sink, index);
    if (s < 0) return;
    p.template.stamp(this.#d.idBase + (s >>> 16), s & 0xffff);
    this.#transmit(s, p, p.family === 4 ? 1 : 58, p.wire, p.template.length, sink, index);
  }

  /** `srcIndex`: the source of p.sources the template was set to (ignored without sources) */
  sendTcpSyn(p: TcpProbe, srcPort: number, sink: OutcomeSink, index: number, srcIndex = 0): void {
    const s = this.#alloc(sink, index);
    if (s < 0) return;
    this.#l4.ports[s] = ((srcPort << 16) | p.dstPort) >>> 0;
    this.#l4.dataLen[s] = p.template.dataLength;
    p.template.stamp(srcPort, this.#l4.tcpSeq(s), 0);
    if (this.#transmit(s, p, 6, p.wire, p.template.length, sink, index)) {
      this.#tcpOf[s] = p;
      if (p.sources) this.#tcpSrc[s] = srcIndex;
    }
  }

  sendUdp(p: UdpProbe, srcPort: number, sink: OutcomeSink, index: number): void {
    const s = this.#alloc(sink, index);
    if (s < 0) return;
    const tag = this.#l4.bindUdp(s, srcPort, p.family);
    if (tag < 0) {
      this.#slots.free(s);
      this.counters.slotsExhausted++;
      sink.onOutcome(index, Outcome.SEND_ERROR, NaN);
      return;
    }
    this.#l4.ports[s] = ((srcPort << 16) | p.dstPort) >>> 0;
    p.template.stamp(srcPort, tag);
    this.#transmit(s, p, 17, p.wire, p.template.length, sink, index);
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
        this.#applyL4(b, i, kind!);
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

  /** TCP and UDP frames: our probes going out, their answers, and ICMP errors quoting them */
  #applyL4(b: DecodedBatch, i: number, kind: number): void {
    const t = this.#slots;
    const k1 = b.k1[i]!;
    const k2 = b.k2[i]!;
    const cap = t.capacity;
    const proto = b.proto[i];
    let s: number;
    if (kind === FrameKind.TCP_SYN) s = this.#l4.slotFromSeq(k2, cap);
    else if (kind === FrameKind.TCP_REPLY) s = this.#l4.slotFromAck(k2, cap);
    else if (kind === FrameKind.UDP_PROBE || (kind === FrameKind.ICMP_ERROR && proto === 17)) s = this.#l4.slotFromUdp(k1 >>> 16, k2);
    else if (kind === FrameKind.ICMP_ERROR && proto === 6) s = this.#l4.slotFromSeq(k2, cap);
    else s = -1;
    if (s < 0 || t.state[s] === SlotState.FREE || this.#l4.ports[s] !== k1 || t.peer[s] !== b.peerHash[i]) {
      this.counters.unmatched++;
      const known = s >= 0 && t.state[s] !== SlotState.FREE && t.peer[s] === b.peerHash[i];
      if (kind === FrameKind.TCP_REPLY) this.#d.onUnmatched?.(known ? 'tcp_port' : 'tcp_ack', b.peerHash[i]!);
      else if (kind === FrameKind.ICMP_ERROR && proto === 17) this.#d.onUnmatched?.('udp_port', b.peerHash[i]!);
      return;
    }
    const ts = b.tsUs[i]!;
    if (kind === FrameKind.TCP_SYN || kind === FrameKind.UDP_PROBE) {
      if (t.txUs[s] === 0) t.txUs[s] = ts;
      return;
    }
    if (t.state[s] !== SlotState.PENDING) {
      this.counters.duplicates++;
      return;
    }
    if (kind === FrameKind.TCP_REPLY) {
      const probe = this.#tcpOf[s];
      if (probe && (b.aux[i]! & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) this.#sendRst(probe, k1, k2, this.#tcpSrc[s] ?? 0);
      this.#complete(s, ts);
      return;
    }
    // an ICMP error: for UDP, a port unreachable from the target itself is the answer we want
    const type = b.aux[i]! >>> 8;
    const code = b.aux[i]! & 0xff;
    const portUnreach =
      (b.family[i] === 4 && type === ICMP4_DEST_UNREACH && code === ICMP4_CODE_PORT_UNREACH) ||
      (b.family[i] === 6 && type === ICMP6_DEST_UNREACH && code === ICMP6_CODE_PORT_UNREACH);
    if (proto === 17 && portUnreach && b.originHash[i] === b.peerHash[i]) this.#complete(s, ts);
    else {
      this.counters.icmpErrors++;
      this.#complete(s, ts, Outcome.ICMP_ERROR);
    }
  }

  /** resets the half-open connection at once: RST with seq = the SYN-ACK's acknowledgement */
  #sendRst(p: TcpProbe, ports: number, ack: number, srcIndex: number): void {
    const len = writeTcpRst(this.#rstBuf, 0, {
      family: p.family, src: p.sources ? p.sources.address(srcIndex) : p.rst.src, dst: p.rst.dst, tos: p.rst.tos, ttl: p.rst.ttl,
      srcPort: ports >>> 16, dstPort: ports & 0xffff, seq: ack,
    });
    try {
      this.#d.sender.send(p.family, 6, this.#rstBuf, len, p.dst);
      this.counters.rstSent++;
    } catch (e) {
      this.#d.log.debug('RST send failed', { dst: p.dst, err: errorMessage(e) });
    }
  }

  #complete(s: number, rxUs: number, answer: Outcome = Outcome.OK): void {
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
    this.#tcpOf[s] = undefined;
    if (tx === 0) {
      this.counters.txNotCaptured++;
      this.counters.matched++;
      sink.onOutcome(t.index[s]!, answer, NaN);
    } else if (rttUs > t.timeoutUs[s]!) {
      this.counters.late++;
      sink.onOutcome(t.index[s]!, Outcome.LOST, NaN);
    } else {
      this.counters.matched++;
      sink.onOutcome(t.index[s]!, answer, rttUs / 1e6);
    }
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
      this.#captures.pollAll();
      this.#dispatchBatch();
      await this.#chain;
      this.#captures.checkDrops(start);
      this.#reap(start - this.#d.captureDelayMs - 5);
    } finally {
      this.#pumping = false;
      if (this.inFlight > 0 || this.#used > 0) this.#arm();
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
          const blind = this.#captures.lastDropMono(t.capture[s]!) >= t.sentMono[s]!;
          sink.onOutcome(t.index[s]!, blind ? Outcome.INDETERMINATE : Outcome.LOST, NaN);
        }
        // quarantine: a very late reply must find this slot free, not a newer probe in it
        this.#l4.release(s);
        this.#tcpOf[s] = undefined;
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
    this.#captures.closeAll();
    this.#d.sender.close();
  }
}

/** The BPF filter of every capture: our echo identifiers, and the TCP/UDP source-port ranges in use. */
function captureFilter(idBase: number, tcpPorts: readonly [number, number][], udpPorts: readonly [number, number][]): string {
  const parts = [echoFilter(idBase)];
  if (tcpPorts.length > 0) parts.push(tcpFilter([...tcpPorts]));
  if (udpPorts.length > 0) parts.push(udpFilter([...udpPorts]));
  return parts.map((p) => `(${p})`).join(' or ');
}

/** A random ICMP identifier block for this process. */
export function randomIdBase(): number {
  return (1 + Math.floor(Math.random() * 0xffe)) << 4;
}
