/**
 * Link-level I/O on host interfaces for the host checks (rogue DHCP detection), main thread only.
 *
 * Sending goes through pcap_inject() (an AF_PACKET socket) rather than a raw IP socket: with
 * IP_HDRINCL the kernel replaces a zero source address with the interface's address, but a
 * DHCPDISCOVER must come from 0.0.0.0 (RFC 2131 §4.1). Injection needs no route and no socket
 * option to pick the interface, and holds no UDP port.
 *
 * Releasing a pcap handle: the binding's close() only sets libpcap's break flag; the socket and
 * its libuv poll watcher are freed by the next dispatch() that sees a frame (it then returns
 * -2). A non-blocking handle with no frame pending never returns -2, so a closed handle would
 * leak its socket and keep the event loop alive. Handles are therefore opened in pairs on one
 * interface, and closing a pair makes each handle inject one "release" frame that the other sees
 * (a socket never sees its own injections): a 60-byte IEEE 802 local-experimental frame
 * (ethertype 0x88b5) from the interface's MAC to itself, which a switch does not forward back.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { AppError, ErrorCodes, errorMessage, type ErrorCode } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { attachReader, LINK_TYPES, type NativeBinding, type NativeSession, type SessionReader } from './capture.js';
import { CAP_NET_RAW_HINT } from './raw-transport.js';
import type { CaptureStats, HostCapture, HostPacketIo } from './types.js';

const IFF_UP = 0x1;
const ARPHRD_ETHER = 1;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_RELEASE = 0x88b5;
const RELEASE_FRAME_LENGTH = 60;
/** whole DHCP messages (up to a 1500-byte MTU) plus link headers and VLAN tags */
const SNAP_LENGTH = 1600;
const CAPTURE_BUFFER = 1024 * 1024;
const SEND_BUFFER = 64 * 1024;
const BUFFER_TIMEOUT_MS = 10;

/** Linux interface names: 1..15 bytes, no '/', whitespace or ':'. */
function checkName(iface: string): void {
  if (!/^[^/\s:]{1,15}$/.test(iface) || iface === '.' || iface === '..') {
    throw new AppError(ErrorCodes.NET_ERR_NO_INTERFACE, `invalid interface name ${JSON.stringify(iface)}`);
  }
}

function parseMac(text: string): Uint8Array {
  const parts = text.trim().split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-f]{2}$/i.test(p))) return new Uint8Array(0);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT' || /no such device/i.test(errorMessage(e));
}

/** Maps a failure to open or use an interface to a coded error: permission, missing or down interface, other. */
function ioError(e: unknown, iface: string, fallback: ErrorCode): AppError {
  const msg = errorMessage(e);
  if (/permission|not permitted|EPERM/i.test(msg)) return new AppError(ErrorCodes.NET_ERR_PERMISSION, CAP_NET_RAW_HINT, { cause: e });
  if (isMissing(e)) return new AppError(ErrorCodes.NET_ERR_NO_INTERFACE, `interface ${iface} does not exist`, { cause: e });
  if (/not up/i.test(msg)) return new AppError(ErrorCodes.NET_ERR_INTERFACE_DOWN, `interface ${iface} is down`, { cause: e });
  return new AppError(fallback, `pcap on ${iface}: ${msg}`, { cause: e });
}

/** One polled pcap handle; `onPacket` sees buf/header filled for each frame while it is open. */
interface Handle {
  readonly session: NativeSession;
  readonly buf: Buffer;
  readonly header: Buffer;
  readonly linkType: number;
  /** reading and closing (never releases inside the poll callback: see attachReader) */
  reader: SessionReader;
}

interface Pair {
  readonly iface: string;
  readonly mac: Uint8Array;
  readonly primary: Handle;
  readonly secondary: Handle;
}

interface PcapContext {
  readonly binding: NativeBinding;
  readonly log: Logger;
  readonly sysfs: string;
}

const netDir = (sysfs: string, iface: string): string => join(sysfs, 'class', 'net', iface);

/** The interface's MAC; throws unless it exists and is an Ethernet interface. */
function ethernetMac(sysfs: string, iface: string, fallback: ErrorCode): Uint8Array {
  checkName(iface);
  let type: number;
  let mac: Uint8Array;
  try {
    type = Number.parseInt(readFileSync(join(netDir(sysfs, iface), 'type'), 'utf8'), 10);
    mac = parseMac(readFileSync(join(netDir(sysfs, iface), 'address'), 'utf8'));
  } catch (e) {
    throw ioError(e, iface, fallback);
  }
  if (type !== ARPHRD_ETHER || mac.length !== 6) throw new AppError(fallback, `interface ${iface} is not an Ethernet interface`);
  return mac;
}

async function readInterfaceInfo(sysfs: string, iface: string): Promise<{ mac: Uint8Array; ipv4: string[]; up: boolean }> {
  checkName(iface);
  let address: string;
  let flags: number;
  let operstate: string;
  try {
    address = await readFile(join(netDir(sysfs, iface), 'address'), 'utf8');
    flags = Number.parseInt(await readFile(join(netDir(sysfs, iface), 'flags'), 'utf8'), 16);
    operstate = (await readFile(join(netDir(sysfs, iface), 'operstate'), 'utf8')).trim();
  } catch (e) {
    if (isMissing(e)) throw new AppError(ErrorCodes.NET_ERR_NO_INTERFACE, `interface ${iface} does not exist`, { cause: e });
    throw new AppError(ErrorCodes.NET_ERR_SOCKET, `interface ${iface}: ${errorMessage(e)}`, { cause: e });
  }
  const ipv4 = (networkInterfaces()[iface] ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address);
  // administratively up, and operationally up (RFC 2863; `unknown` when the driver reports no carrier state)
  const up = (flags & IFF_UP) !== 0 && (operstate === 'up' || operstate === 'unknown');
  return { mac: parseMac(address), ipv4, up };
}

/** Stands in for the reader until the session is open. */
const CLOSED_READER: SessionReader = { state: 'released', read: () => undefined, close: () => undefined };

function openHandle(ctx: PcapContext, iface: string, filter: string, bufferBytes: number, onPacket: (h: Handle) => void, fallback: ErrorCode): Handle {
  const session = new ctx.binding.PcapSession();
  const buf = Buffer.alloc(SNAP_LENGTH);
  const header = Buffer.alloc(16);
  const onWarning = (msg: string): void => ctx.log.debug('pcap warning', { iface, msg });
  let linkName: string;
  const handle: { -readonly [K in keyof Handle]: Handle[K] } = { session, buf, header, linkType: -1, reader: CLOSED_READER };
  try {
    linkName = session.open_live(iface, filter, bufferBytes, SNAP_LENGTH, '', () => onPacket(handle), false, BUFFER_TIMEOUT_MS, onWarning, false);
  } catch (e) {
    throw ioError(e, iface, fallback);
  }
  handle.linkType = LINK_TYPES[linkName] ?? -1;
  handle.reader = attachReader(session, buf, header);
  return handle;
}

/** Two handles on an Ethernet interface: `primary` with `filter`, and a silent partner to release it. */
function openPair(ctx: PcapContext, iface: string, filter: string, bufferBytes: number, onPacket: (h: Handle) => void, fallback: ErrorCode): Pair {
  const mac = ethernetMac(ctx.sysfs, iface, fallback);
  const hex = Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
  const release = `ether proto 0x${ETHERTYPE_RELEASE.toString(16)} and ether src ${hex} and ether dst ${hex}`;
  const full = filter === '' ? release : `(${filter}) or (${release})`;
  const primary = openHandle(ctx, iface, full, bufferBytes, onPacket, fallback);
  let secondary: Handle;
  try {
    secondary = openHandle(ctx, iface, release, SEND_BUFFER, () => undefined, fallback);
  } catch (e) {
    // a lone handle cannot be released now; the release frames of the next pair on this interface will do it
    primary.reader.close();
    throw e;
  }
  return { iface, mac, primary, secondary };
}

/** Closes both handles; each injects the release frame the other one is waiting for. */
function closePair(ctx: PcapContext, pair: Pair): void {
  const frame = Buffer.alloc(RELEASE_FRAME_LENGTH);
  frame.set(pair.mac, 0);
  frame.set(pair.mac, 6);
  frame.writeUInt16BE(ETHERTYPE_RELEASE, 12);
  for (const h of [pair.primary, pair.secondary]) h.reader.close();
  for (const [from, to] of [[pair.primary, pair.secondary], [pair.secondary, pair.primary]] as const) {
    if (to.reader.state !== 'closing') continue;
    try {
      from.session.inject(frame);
    } catch (e) {
      ctx.log.warn('could not release a pcap handle: its socket stays open', { iface: pair.iface, err: errorMessage(e) });
    }
  }
}

export function createHostPacketIo(log: Logger, sysfs = '/sys'): HostPacketIo {
  const binding = createRequire(import.meta.url)('pcap/build/Release/pcap_binding') as NativeBinding;
  const ctx: PcapContext = { binding, log, sysfs };

  return {
    interfaceInfo: (iface) => readInterfaceInfo(sysfs, iface),

    sendBroadcast(iface, packet) {
      const pair = openPair(ctx, iface, '', SEND_BUFFER, () => undefined, ErrorCodes.NET_ERR_SEND);
      try {
        const frame = Buffer.alloc(14 + packet.length);
        frame.fill(0xff, 0, 6);
        frame.set(pair.mac, 6);
        frame.writeUInt16BE(ETHERTYPE_IPV4, 12);
        frame.set(packet, 14);
        pair.primary.session.inject(frame);
      } catch (e) {
        throw ioError(e, iface, ErrorCodes.NET_ERR_SEND);
      } finally {
        closePair(ctx, pair);
      }
    },

    capture(iface, filter, onFrame): HostCapture {
      const onPacket = (h: Handle): void => {
        if (h.reader.state !== 'open' || h.buf.readUInt16BE(12) === ETHERTYPE_RELEASE) return;
        const tsNs = BigInt(h.header.readUInt32LE(0)) * 1_000_000_000n + BigInt(h.header.readUInt32LE(4)) * 1000n;
        onFrame(tsNs, h.buf.subarray(0, Math.min(h.header.readUInt32LE(8), SNAP_LENGTH)));
      };
      const pair = openPair(ctx, iface, filter, CAPTURE_BUFFER, onPacket, ErrorCodes.NET_ERR_CAPTURE);
      const { primary } = pair;
      return {
        linkType: primary.linkType,
        stats(): CaptureStats {
          if (primary.reader.state !== 'open') return { received: 0, dropped: 0, ifDropped: 0 };
          const s = primary.session.stats();
          return { received: s.ps_recv, dropped: s.ps_drop, ifDropped: s.ps_ifdrop };
        },
        close() {
          if (primary.reader.state !== 'open') return;
          // hand over what the kernel holds already, then release both handles
          primary.reader.read();
          closePair(ctx, pair);
        },
      };
    },
  };
}
