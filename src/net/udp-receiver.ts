/**
 * A UDP socket that hands its datagrams over in batches, for the flow collector. Two ways:
 *
 * - "recvmmsg": our own N-API addon (native/udp-batch, built by `npm run build:native`, which
 *   `npm ci` and `make build` run) reads up to BATCH datagrams per system call into one reused
 *   buffer and calls JS once per batch: no Buffer, rinfo object or callback per datagram. It
 *   sets the receive buffer with SO_RCVBUFFORCE (past net.core.rmem_max when the process has
 *   CAP_NET_ADMIN) and counts kernel drops with SO_RXQ_OVFL.
 * - "dgram": Node's dgram socket, one 'message' event per datagram; the fallback when the addon
 *   is not built (no toolchain at install time). Its kernel drops come from /proc/net/udp (null
 *   here).
 *
 * Either way `onBatchStart()` runs before each batch, `onDatagram(buf, source)` per datagram and
 * `onBatchEnd()` after the batch (for dgram, a batch is one datagram). `buf` is valid only during the call: the next batch is read into
 * the same memory, so a consumer keeps a copy (Uint8Array.prototype.slice) of what it holds on.
 * Both bind without SO_REUSEADDR/SO_REUSEPORT, so the address and port are the socket's alone,
 * and an IPv6 socket is dual-stack (IPv4 sources appear as plain IPv4 text).
 */
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';

export type UdpReceiverKind = 'recvmmsg' | 'dgram';

export interface UdpReceiverOptions {
  readonly address: string;
  /** 0: any free port */
  readonly port: number;
  readonly receiveBufferBytes: number;
  readonly onBatchStart: () => void;
  readonly onDatagram: (buf: Uint8Array, source: string) => void;
  readonly onBatchEnd: () => void;
  readonly onError: (e: Error) => void;
}

export interface UdpReceiver {
  readonly kind: UdpReceiverKind;
  readonly port: number;
  /** what the kernel granted (SO_RCVBUF, doubled by the kernel for its bookkeeping) */
  readonly receiveBufferBytes: number;
  /** datagrams the kernel dropped on this socket so far (SO_RXQ_OVFL); null: not known here */
  kernelDrops(): number | null;
  /** receive errors on this socket so far (recvmmsg failing other than "nothing to read", a pending socket error; dgram: 'error' events) */
  errors(): number;
  /** the errno of the last receive error (0: none, or not known: dgram) */
  lastErrno(): number;
  close(): void;
}

interface AddonSocket {
  readonly handle: object;
  readonly data: ArrayBuffer;
  readonly meta: Int32Array;
  readonly port: number;
  readonly receiveBufferBytes: number;
  readonly forced: boolean;
}

interface UdpBatchAddon {
  open(address: string, port: number, receiveBufferBytes: number, batch: number, onBatch: (count: number, fresh: string[] | undefined, base: number) => void, holdMs: number): AddonSocket;
  stats(handle: object): { drops: number; datagrams: number; batches: number; errors: number; errno: number };
  close(handle: object): void;
}

/** datagrams per recvmmsg call (and per JS call) */
export const BATCH = 64;
/**
 * once a wake-up has drained the socket, ms before it is read again (by a timer, while it keeps
 * finding datagrams; then the poll again): at 20 000 datagrams/s the thread woke about 3 400
 * times a second with 6 datagrams each, and wake-ups were about a sixth of the collector's CPU
 * (bench/README.md, "flowcpu2 branch (second)"); 2 ms holds 40 datagrams at that rate.
 */
export const HOLD_MS = 2;

const ADDON_PATH = fileURLToPath(new URL('../../../native/udp-batch/build/Release/udp_batch.node', import.meta.url));

let loaded: { addon: UdpBatchAddon | null; reason: string } | undefined;

/** The addon, or null and why not (not built, or it failed to load). Loaded once. */
export function udpBatchAddon(): { addon: UdpBatchAddon | null; reason: string } {
  if (loaded !== undefined) return loaded;
  if (!existsSync(ADDON_PATH)) loaded = { addon: null, reason: `${ADDON_PATH} not built (npm run build:native)` };
  else {
    try {
      loaded = { addon: createRequire(import.meta.url)(ADDON_PATH) as UdpBatchAddon, reason: '' };
    } catch (e) {
      loaded = { addon: null, reason: `cannot load ${ADDON_PATH}: ${errorMessage(e)}` };
    }
  }
  return loaded;
}

const where = (address: string, port: number): string => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

function openBatched(addon: UdpBatchAddon, o: UdpReceiverOptions): UdpReceiver {
  const names: string[] = [];
  let data: Uint8Array | null = null;
  let meta: Int32Array | null = null;
  const onBatch = (count: number, fresh: string[] | undefined, base: number): void => {
    if (fresh !== undefined) {
      names.length = base;
      names.push(...fresh);
    }
    o.onBatchStart();
    for (let i = 0; i < count; i++) {
      const at = i * 65536;
      o.onDatagram(data!.subarray(at, at + meta![2 * i]!), names[meta![2 * i + 1]!]!);
    }
    o.onBatchEnd();
  };
  let s: AddonSocket;
  try {
    s = addon.open(o.address, o.port, o.receiveBufferBytes, BATCH, onBatch, HOLD_MS);
  } catch (e) {
    throw new AppError(ErrorCodes.NET_ERR_SOCKET, `flows: cannot listen on ${where(o.address, o.port)}: ${errorMessage(e)}`, { cause: e });
  }
  data = new Uint8Array(s.data);
  meta = s.meta;
  let closed = false;
  /** the counts at close, kept */
  let last = { errors: 0, errno: 0 };
  const stats = (): { errors: number; errno: number } => (closed ? last : addon.stats(s.handle));
  return {
    kind: 'recvmmsg',
    port: s.port,
    receiveBufferBytes: s.receiveBufferBytes,
    kernelDrops: () => (closed ? null : addon.stats(s.handle).drops),
    errors: () => stats().errors,
    lastErrno: () => stats().errno,
    close() {
      if (closed) return;
      last = addon.stats(s.handle);
      closed = true;
      addon.close(s.handle);
    },
  };
}

async function openDgram(o: UdpReceiverOptions): Promise<UdpReceiver> {
  const v6 = o.address.includes(':');
  const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', recvBufferSize: o.receiveBufferBytes });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (e) => {
      socket.close();
      reject(new AppError(ErrorCodes.NET_ERR_SOCKET, `flows: cannot listen on ${where(o.address, o.port)}: ${errorMessage(e)}`, { cause: e }));
    });
    socket.bind({ address: o.address, port: o.port, exclusive: true }, () => resolve());
  });
  socket.on('message', (msg, rinfo) => {
    // "::ffff:192.0.2.1" (a dual-stack socket's IPv4 peer) → "192.0.2.1"
    const a = rinfo.address;
    o.onBatchStart();
    o.onDatagram(msg, a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);
    o.onBatchEnd();
  });
  let errors = 0;
  socket.on('error', (e) => {
    errors++;
    o.onError(e);
  });
  return {
    kind: 'dgram',
    port: socket.address().port,
    receiveBufferBytes: socket.getRecvBufferSize(),
    kernelDrops: () => null,
    errors: () => errors,
    lastErrno: () => 0,
    close: () => socket.close(),
  };
}

/** Opens the socket: with the addon when it is built and `kind` allows, else with dgram. */
export async function openUdpReceiver(o: UdpReceiverOptions, kind: UdpReceiverKind = 'recvmmsg'): Promise<UdpReceiver> {
  const { addon } = udpBatchAddon();
  return kind === 'recvmmsg' && addon !== null ? openBatched(addon, o) : openDgram(o);
}
