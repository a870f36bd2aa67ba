/**
 * pcap captures, one per egress interface, each with a tight BPF filter. Frames are handed
 * to a sink with their kernel timestamps; the caller copies what it needs (the pcap binding
 * reuses one buffer for every frame).
 */
import pcap from 'pcap';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import { CAP_NET_RAW_HINT } from './raw-transport.js';
import type { Capture, CaptureFactory, CaptureStats, FrameSink } from './types.js';

/** What pcap.js keeps on the session object; used to read synchronously and to map link types. */
interface SessionInternals {
  readonly session: { dispatch(buf: Buffer, header: Buffer): number };
  readonly buf: Buffer;
  readonly header: Buffer;
  readonly link_type: string;
}

const LINK_TYPES: Record<string, number> = {
  LINKTYPE_NULL: 0,
  LINKTYPE_ETHERNET: 1,
  LINKTYPE_RAW: 12,
  LINKTYPE_LINUX_SLL: 113,
};

export interface CaptureOptions {
  /** kernel ring size per capture */
  readonly bufferBytes: number;
  /** bytes kept per frame: enough for link + IP + transport headers and quoted headers */
  readonly snapLength: number;
  /** how long the kernel may hold frames before waking us (ms); replies are timed by the kernel anyway */
  readonly bufferTimeoutMs: number;
}

export const defaultCaptureOptions: CaptureOptions = {
  bufferBytes: 8 * 1024 * 1024,
  snapLength: 256,
  bufferTimeoutMs: 10,
};

export function createCaptureFactory(opts: CaptureOptions = defaultCaptureOptions): CaptureFactory {
  return {
    open(iface: string, filter: string, onFrame: FrameSink): Capture {
      let session: pcap.PcapSession;
      try {
        session = pcap.createSession(iface, {
          filter,
          buffer_size: opts.bufferBytes,
          snap_length: opts.snapLength,
          buffer_timeout: opts.bufferTimeoutMs,
          promiscuous: false,
        });
      } catch (e) {
        const msg = errorMessage(e);
        if (/permission|not permitted|EPERM/i.test(msg)) {
          throw new AppError(ErrorCodes.NET_ERR_PERMISSION, CAP_NET_RAW_HINT, { cause: e });
        }
        throw new AppError(ErrorCodes.NET_ERR_CAPTURE, `capture on ${iface}: ${msg}`, { cause: e });
      }
      const inner = session as unknown as SessionInternals;
      const linkType = LINK_TYPES[inner.link_type];
      if (linkType === undefined) {
        session.close();
        throw new AppError(ErrorCodes.NET_ERR_CAPTURE, `capture on ${iface}: unsupported link type ${inner.link_type}`);
      }
      session.on('packet', (p: pcap.PacketWithHeader) => {
        const h = p.header;
        onFrame(h.readUInt32LE(0), h.readUInt32LE(4), p.buf, h.readUInt32LE(8));
      });
      let closed = false;
      return {
        iface,
        linkType,
        poll() {
          if (!closed) inner.session.dispatch(inner.buf, inner.header);
        },
        stats(): CaptureStats {
          if (closed) return { received: 0, dropped: 0, ifDropped: 0 };
          const s = session.stats();
          return { received: s.ps_recv, dropped: s.ps_drop, ifDropped: s.ps_ifdrop };
        },
        close() {
          if (closed) return;
          closed = true;
          session.close();
        },
      };
    },
  };
}
