/**
 * pcap captures, one per egress interface, each with a tight BPF filter. Frames are handed to a
 * sink with their kernel timestamps; the sink copies what it needs (the binding reuses one
 * buffer for every frame).
 *
 * The pcap package's native binding is used directly: its JavaScript wrapper allocates an
 * object and emits an event per frame, which at 100 000 frames/s is most of the garbage the
 * process makes.
 */
import { createRequire } from 'node:module';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import { CAP_NET_RAW_HINT } from './raw-transport.js';
import type { Capture, CaptureFactory, CaptureStats, FrameSink } from './types.js';

/** The part of pcap@3's native PcapSession that we use. */
export interface NativeSession {
  open_live(
    device: string,
    filter: string,
    bufferSize: number,
    snapLength: number,
    outfile: string,
    onPacket: () => void,
    monitor: boolean,
    bufferTimeoutMs: number,
    onWarning: (msg: string) => void,
    promiscuous: boolean,
  ): string;
  dispatch(buf: Buffer, header: Buffer): number;
  /** pcap_inject(): sends one complete link-layer frame; throws on failure */
  inject(frame: Buffer): void;
  start_polling(): void;
  close(): void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  read_callback?: () => void;
}

export interface NativeBinding {
  PcapSession: new () => NativeSession;
}

export const LINK_TYPES: Readonly<Record<string, number>> = {
  LINKTYPE_NULL: 0,
  LINKTYPE_ETHERNET: 1,
  LINKTYPE_RAW: 12,
  LINKTYPE_LINUX_SLL: 113,
};

export type SessionState = 'open' | 'closing' | 'released';

/** Reads a polled native session and closes it safely (see attachReader). */
export interface SessionReader {
  readonly state: SessionState;
  /** dispatches what the kernel holds (nothing once closed) */
  read(): void;
  /** breaks the session; it is released by the first frame seen afterwards */
  close(): void;
}

/**
 * Polls a native session, frames going to its packet callback.
 *
 * The binding's close() only breaks libpcap's loop: the handle is really closed (socket, ring,
 * poll watcher) by the next dispatch() that finds a frame, which returns -2. That dispatch also
 * deletes the binding's async resource, which the binding is still using while it runs the
 * poll callback: a dispatch made there after close() is a use after free (glibc aborts with
 * "double free or corruption"). So once closed, the poll callback only schedules the releasing
 * dispatch on a later tick, once at a time; a closed session on a quiet interface is released
 * by the next frame it sees.
 */
export function attachReader(session: NativeSession, buf: Buffer, header: Buffer): SessionReader {
  let state: SessionState = 'open';
  let scheduled = false;
  const release = (): void => {
    scheduled = false;
    if (state === 'closing' && session.dispatch(buf, header) === -2) state = 'released';
  };
  session.read_callback = (): void => {
    if (state === 'open') session.dispatch(buf, header);
    else if (state === 'closing' && !scheduled) {
      scheduled = true;
      setImmediate(release);
    }
  };
  session.start_polling();
  return {
    get state() {
      return state;
    },
    read() {
      if (state === 'open') session.dispatch(buf, header);
    },
    close() {
      if (state !== 'open') return;
      state = 'closing';
      session.close();
    },
  };
}

export interface CaptureOptions {
  /** bytes kept per frame: enough for link + IP + transport headers and quoted headers */
  readonly snapLength: number;
  /** how long the kernel may hold frames before waking us (ms); replies are timed by the kernel anyway */
  readonly bufferTimeoutMs: number;
}

export const defaultCaptureOptions: CaptureOptions = {
  snapLength: 256,
  bufferTimeoutMs: 10,
};

export function createCaptureFactory(
  opts: CaptureOptions = defaultCaptureOptions,
  onWarning: (msg: string) => void = () => undefined,
): CaptureFactory {
  const binding = createRequire(import.meta.url)('pcap/build/Release/pcap_binding') as NativeBinding;
  // Every session stays referenced for the life of the process, closed ones included: the
  // binding never uv_close()s its poll handle, so a collected session would leave freed memory
  // in libuv's handle list. Captures are opened once per interface and again only when a reload
  // changes the filter, so this is a handful of objects.
  const sessions: NativeSession[] = [];
  return {
    open(iface: string, filter: string, ringBytes: number, onFrame: FrameSink): Capture {
      const session = new binding.PcapSession();
      sessions.push(session);
      const buf = Buffer.alloc(opts.snapLength);
      const header = Buffer.alloc(16);
      const onPacket = (): void => {
        onFrame(header.readUInt32LE(0), header.readUInt32LE(4), buf, header.readUInt32LE(8));
      };
      let linkName: string;
      try {
        linkName = session.open_live(iface, filter, ringBytes, opts.snapLength, '', onPacket, false, opts.bufferTimeoutMs, onWarning, false);
      } catch (e) {
        const msg = errorMessage(e);
        if (/permission|not permitted|EPERM/i.test(msg)) {
          throw new AppError(ErrorCodes.NET_ERR_PERMISSION, CAP_NET_RAW_HINT, { cause: e });
        }
        throw new AppError(ErrorCodes.NET_ERR_CAPTURE, `capture on ${iface}: ${msg}`, { cause: e });
      }
      const linkType = LINK_TYPES[linkName];
      if (linkType === undefined) {
        session.close();
        throw new AppError(ErrorCodes.NET_ERR_CAPTURE, `capture on ${iface}: unsupported link type ${linkName}`);
      }
      const reader = attachReader(session, buf, header);
      return {
        iface,
        linkType,
        poll: () => reader.read(),
        stats(): CaptureStats {
          if (reader.state !== 'open') return { received: 0, dropped: 0, ifDropped: 0 };
          const s = session.stats();
          return { received: s.ps_recv, dropped: s.ps_drop, ifDropped: s.ps_ifdrop };
        },
        close: () => reader.close(),
      };
    },
  };
}
