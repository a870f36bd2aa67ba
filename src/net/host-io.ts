/**
 * Link-level I/O on host interfaces for the host checks (rogue DHCP detection), main thread only.
 *
 * Sending goes through pcap_inject() (an AF_PACKET socket) rather than a raw IP socket: with
 * IP_HDRINCL the kernel replaces a zero source address with the interface's address, but a
 * DHCPDISCOVER must come from 0.0.0.0 (RFC 2131 §4.1). Injection needs no route and no socket
 * option to pick the interface, and holds no UDP port.
 *
 * Handles are opened once per (interface, filter) and kept for the life of the process: a
 * check's capture only attaches a listener for its window. Closing pcap handles of the pcap
 * package is unsafe to repeat: close() only breaks libpcap's loop, the handle is freed by a
 * later dispatch, and the binding leaves its libuv poll handle in the loop's handle list without
 * uv_close(), so once the JavaScript object is collected the loop's list points into freed
 * memory (heap corruption: "double free or corruption", seen with a check every few seconds).
 * A DHCP capture is cheap to keep: its filter admits only DHCP traffic.
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
/** whole DHCP messages (up to a 1500-byte MTU) plus link headers and VLAN tags */
const SNAP_LENGTH = 1600;
const CAPTURE_BUFFER = 1024 * 1024;
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

/** One polled pcap handle, kept open; frames go to its current listener, if any. */
interface Handle {
  readonly session: NativeSession;
  readonly linkType: number;
  readonly reader: SessionReader;
  listener: ((tsNs: bigint, frame: Uint8Array) => void) | null;
}

/** A filter that admits nothing we see in practice: a handle opened only to inject. */
const SEND_ONLY_FILTER = 'ether proto 0x88b5 and ether src 00:00:00:00:00:00';

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

function openHandle(binding: NativeBinding, log: Logger, iface: string, filter: string, fallback: ErrorCode): Handle {
  const session = new binding.PcapSession();
  const buf = Buffer.alloc(SNAP_LENGTH);
  const header = Buffer.alloc(16);
  const onWarning = (msg: string): void => log.debug('pcap warning', { iface, msg });
  let handle: Handle | null = null;
  const onPacket = (): void => {
    const l = handle?.listener;
    if (!l) return;
    const tsNs = BigInt(header.readUInt32LE(0)) * 1_000_000_000n + BigInt(header.readUInt32LE(4)) * 1000n;
    l(tsNs, buf.subarray(0, Math.min(header.readUInt32LE(8), SNAP_LENGTH)));
  };
  let linkName: string;
  try {
    linkName = session.open_live(iface, filter, CAPTURE_BUFFER, SNAP_LENGTH, '', onPacket, false, BUFFER_TIMEOUT_MS, onWarning, false);
  } catch (e) {
    throw ioError(e, iface, fallback);
  }
  handle = { session, linkType: LINK_TYPES[linkName] ?? -1, reader: attachReader(session, buf, header), listener: null };
  return handle;
}

export function createHostPacketIo(log: Logger, sysfs = '/sys'): HostPacketIo {
  const binding = createRequire(import.meta.url)('pcap/build/Release/pcap_binding') as NativeBinding;
  /** `${iface}\u0000${filter}` → its handle, for the life of the process (see the module comment) */
  const handles = new Map<string, Handle>();
  /** The handle for (iface, filter), and the interface's MAC (checked to be Ethernet on every use). */
  const handleFor = (iface: string, filter: string, fallback: ErrorCode): { h: Handle; mac: Uint8Array } => {
    const mac = ethernetMac(sysfs, iface, fallback);
    const key = `${iface}\u0000${filter}`;
    let h = handles.get(key);
    if (!h) {
      h = openHandle(binding, log, iface, filter, fallback);
      handles.set(key, h);
    }
    return { h, mac };
  };

  return {
    interfaceInfo: (iface) => readInterfaceInfo(sysfs, iface),

    sendBroadcast(iface, packet) {
      // a handle of its own: a socket does not see its own injections, and the capture must see the DISCOVER
      const { h, mac } = handleFor(iface, SEND_ONLY_FILTER, ErrorCodes.NET_ERR_SEND);
      const frame = Buffer.alloc(14 + packet.length);
      frame.fill(0xff, 0, 6);
      frame.set(mac, 6);
      frame.writeUInt16BE(ETHERTYPE_IPV4, 12);
      frame.set(packet, 14);
      try {
        h.session.inject(frame);
      } catch (e) {
        throw ioError(e, iface, ErrorCodes.NET_ERR_SEND);
      }
    },

    capture(iface, filter, onFrame): HostCapture {
      const { h } = handleFor(iface, filter, ErrorCodes.NET_ERR_CAPTURE);
      // frames that arrived between two windows belong to nobody
      h.listener = null;
      h.reader.read();
      h.listener = onFrame;
      let open = true;
      return {
        linkType: h.linkType,
        stats(): CaptureStats {
          if (!open) return { received: 0, dropped: 0, ifDropped: 0 };
          const s = h.session.stats();
          return { received: s.ps_recv, dropped: s.ps_drop, ifDropped: s.ps_ifdrop };
        },
        close() {
          if (!open) return;
          open = false;
          // hand over what the kernel holds already, then detach
          h.reader.read();
          if (h.listener === onFrame) h.listener = null;
        },
      };
    },
  };
}
