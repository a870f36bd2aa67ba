/**
 * Fakes at the net/ seam: a sender that records packets, captures the test feeds with frames,
 * and a decoder that runs the real batch decoder inline.
 */
import type { Capture, CaptureFactory, CaptureStats, Family, FrameDecoder, FrameSink, RawSender } from '../../src/net/types.js';
import { decodeBatch } from '../../src/packet/probe-frame.js';
import { frameCodecs } from '../../src/probes/index.js';

export interface SentPacket {
  family: Family;
  protocol: number;
  bytes: Uint8Array;
  dst: string;
}

export class FakeSender implements RawSender {
  readonly sent: SentPacket[] = [];
  /** throw this on the next sends, when set */
  failWith: Error | null = null;
  closed = false;

  send(family: Family, protocol: number, packet: Buffer, length: number, dst: string): void {
    if (this.failWith) throw this.failWith;
    this.sent.push({ family, protocol, bytes: Uint8Array.from(packet.subarray(0, length)), dst });
  }

  close(): void {
    this.closed = true;
  }
}

export class FakeCapture implements Capture {
  readonly iface: string;
  readonly linkType = 12; // DLT_RAW: frames are bare IP packets
  readonly filter: string;
  readonly ringBytes: number;
  readonly #sink: FrameSink;
  readonly #queue: { sec: number; usec: number; frame: Uint8Array }[] = [];
  /** frames the kernel has written (counted in `received`) but not yet handed over: an open ring block */
  readonly #held: { sec: number; usec: number; frame: Uint8Array }[] = [];
  stat: CaptureStats = { received: 0, dropped: 0, ifDropped: 0 };
  closed = false;

  constructor(iface: string, filter: string, ringBytes: number, sink: FrameSink) {
    this.iface = iface;
    this.filter = filter;
    this.ringBytes = ringBytes;
    this.#sink = sink;
  }

  /** queue a frame (a bare IP packet) with its kernel timestamp in µs since the epoch */
  push(frame: Uint8Array, tsUs: number): void {
    this.#queue.push({ sec: Math.floor(tsUs / 1e6), usec: tsUs % 1e6, frame });
    this.stat = { ...this.stat, received: this.stat.received + 1 };
  }

  /** like push(), but the frame stays unreadable until reveal() (its ring block is not handed over yet) */
  pushHeld(frame: Uint8Array, tsUs: number): void {
    this.#held.push({ sec: Math.floor(tsUs / 1e6), usec: tsUs % 1e6, frame });
    this.stat = { ...this.stat, received: this.stat.received + 1 };
  }

  /** hands the held frames over (the kernel retires the block) */
  reveal(): void {
    this.#queue.push(...this.#held.splice(0));
  }

  poll(): void {
    for (const f of this.#queue.splice(0)) this.#sink(f.sec, f.usec, Buffer.from(f.frame), f.frame.length);
  }

  /** the kernel wakes the process for the frames it has handed over (the binding's poll handle) */
  wake(): void {
    this.poll();
  }

  stats(): CaptureStats {
    return this.stat;
  }

  close(): void {
    this.closed = true;
  }
}

export class FakeCaptureFactory implements CaptureFactory {
  readonly opened: FakeCapture[] = [];

  open(iface: string, filter: string, ringBytes: number, onFrame: FrameSink): Capture {
    const c = new FakeCapture(iface, filter, ringBytes, onFrame);
    this.opened.push(c);
    return c;
  }
}

const codecs = frameCodecs();

/** the real batch decoder with the registry's probe types, run inline */
export const inlineDecoder: FrameDecoder = {
  decode: (batch, used) => Promise.resolve(decodeBatch(batch, used, codecs)),
};

/** An echo reply for a captured echo request (bare IP packets): swap addresses, set the type. */
export function echoReplyFor(request: Uint8Array): Uint8Array {
  const r = Uint8Array.from(request);
  const v4 = (r[0]! >> 4) === 4;
  const a = v4 ? 12 : 8;
  const len = v4 ? 4 : 16;
  const src = r.slice(a, a + len);
  r.copyWithin(a, a + len, a + 2 * len);
  r.set(src, a + len);
  const icmp = v4 ? (r[0]! & 0xf) * 4 : 40;
  r[icmp] = v4 ? 0 : 129;
  return r;
}
