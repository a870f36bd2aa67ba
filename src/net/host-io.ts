/**
 * Link-level I/O on host interfaces for the host checks (rogue DHCP detection), main thread only.
 *
 * Sending goes through pcap_inject() (an AF_PACKET socket) rather than a raw IP socket: with
 * IP_HDRINCL the kernel replaces a zero source address with the interface's address, but a
 * DHCPDISCOVER must come from 0.0.0.0 (RFC 2131 §4.1). Injection also needs no route and no
 * socket option to pick the interface, and holds no UDP port. Each send opens and closes its
 * own pcap handle, so the check's capture (a different socket) sees the frame go out and
 * stamps it.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { AppError, ErrorCodes, errorMessage, type ErrorCode } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { LINK_TYPES, type NativeBinding, type NativeSession } from './capture.js';
import { CAP_NET_RAW_HINT } from './raw-transport.js';
import type { CaptureStats, HostCapture, HostPacketIo } from './types.js';

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const ETHERTYPE_IPV4 = 0x0800;
const DLT_EN10MB = 1;
/** whole DHCP messages (up to a 1500-byte MTU) plus link headers and VLAN tags */
const SNAP_LENGTH = 1600;
const CAPTURE_BUFFER = 1024 * 1024;
const CAPTURE_TIMEOUT_MS = 10;
/** the send handle captures nothing: no frame is 1 byte long */
const SEND_FILTER = 'less 1';
const SEND_BUFFER = 64 * 1024;

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

/** Maps a pcap open failure to a coded error: permission, missing or down interface, other. */
function openError(e: unknown, iface: string, fallback: ErrorCode): AppError {
  const msg = errorMessage(e);
  if (/permission|not permitted|EPERM/i.test(msg)) return new AppError(ErrorCodes.NET_ERR_PERMISSION, CAP_NET_RAW_HINT, { cause: e });
  if (isMissing(e)) return new AppError(ErrorCodes.NET_ERR_NO_INTERFACE, `interface ${iface} does not exist`, { cause: e });
  if (/not up/i.test(msg)) return new AppError(ErrorCodes.NET_ERR_INTERFACE_DOWN, `interface ${iface} is down`, { cause: e });
  return new AppError(fallback, `pcap on ${iface}: ${msg}`, { cause: e });
}

export function createHostPacketIo(log: Logger, sysfs = '/sys'): HostPacketIo {
  const binding = createRequire(import.meta.url)('pcap/build/Release/pcap_binding') as NativeBinding;
  const netDir = (iface: string): string => join(sysfs, 'class', 'net', iface);
  const onWarning = (msg: string): void => log.debug('pcap warning', { msg });

  const open = (iface: string, filter: string, buffer: number, snap: number, onPacket: () => void, fallback: ErrorCode): [NativeSession, number] => {
    checkName(iface);
    const session = new binding.PcapSession();
    let linkName: string;
    try {
      linkName = session.open_live(iface, filter, buffer, snap, '', onPacket, false, CAPTURE_TIMEOUT_MS, onWarning, false);
    } catch (e) {
      throw openError(e, iface, fallback);
    }
    const linkType = LINK_TYPES[linkName];
    if (linkType === undefined) {
      session.close();
      throw new AppError(fallback, `pcap on ${iface}: unsupported link type ${linkName}`);
    }
    return [session, linkType];
  };

  return {
    async interfaceInfo(iface) {
      checkName(iface);
      let address: string;
      let flags: number;
      try {
        address = await readFile(join(netDir(iface), 'address'), 'utf8');
        flags = Number.parseInt(await readFile(join(netDir(iface), 'flags'), 'utf8'), 16);
      } catch (e) {
        if (isMissing(e)) throw new AppError(ErrorCodes.NET_ERR_NO_INTERFACE, `interface ${iface} does not exist`, { cause: e });
        throw new AppError(ErrorCodes.NET_ERR_SOCKET, `interface ${iface}: ${errorMessage(e)}`, { cause: e });
      }
      const ipv4 = (networkInterfaces()[iface] ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address);
      // administratively up and operationally up (carrier, or a driver that reports none)
      const up = (flags & IFF_UP) !== 0 && (flags & IFF_RUNNING) !== 0;
      return { mac: parseMac(address), ipv4, up };
    },

    sendBroadcast(iface, packet) {
      checkName(iface);
      let mac: Uint8Array;
      try {
        mac = parseMac(readFileSync(join(netDir(iface), 'address'), 'utf8'));
      } catch (e) {
        throw openError(e, iface, ErrorCodes.NET_ERR_SEND);
      }
      const [session, linkType] = open(iface, SEND_FILTER, SEND_BUFFER, 64, () => undefined, ErrorCodes.NET_ERR_SEND);
      try {
        if (linkType !== DLT_EN10MB || mac.length !== 6) {
          throw new AppError(ErrorCodes.NET_ERR_SEND, `interface ${iface} is not an Ethernet interface`);
        }
        const frame = Buffer.alloc(14 + packet.length);
        frame.fill(0xff, 0, 6);
        frame.set(mac, 6);
        frame.writeUInt16BE(ETHERTYPE_IPV4, 12);
        frame.set(packet, 14);
        try {
          session.inject(frame);
        } catch (e) {
          throw new AppError(ErrorCodes.NET_ERR_SEND, `send on ${iface}: ${errorMessage(e)}`, { cause: e });
        }
      } finally {
        session.close();
      }
    },

    capture(iface, filter, onFrame): HostCapture {
      const buf = Buffer.alloc(SNAP_LENGTH);
      const header = Buffer.alloc(16);
      const onPacket = (): void => {
        const tsNs = BigInt(header.readUInt32LE(0)) * 1_000_000_000n + BigInt(header.readUInt32LE(4)) * 1000n;
        onFrame(tsNs, buf.subarray(0, header.readUInt32LE(8)));
      };
      const [session, linkType] = open(iface, filter, CAPTURE_BUFFER, SNAP_LENGTH, onPacket, ErrorCodes.NET_ERR_CAPTURE);
      let closed = false;
      session.read_callback = (): void => {
        if (!closed) session.dispatch(buf, header);
      };
      session.start_polling();
      return {
        linkType,
        stats(): CaptureStats {
          if (closed) return { received: 0, dropped: 0, ifDropped: 0 };
          const s = session.stats();
          return { received: s.ps_recv, dropped: s.ps_drop, ifDropped: s.ps_ifdrop };
        },
        close() {
          if (closed) return;
          // hand over what the kernel holds already, then release the socket
          session.dispatch(buf, header);
          closed = true;
          session.close();
        },
      };
    },
  };
}
