/**
 * Shared raw sockets: one per (family, protocol), created on first use, send-only.
 * Packets carry their own IP header (IP_HDRINCL / IPV6_HDRINCL) so DSCP, DF, TTL and the
 * source address are under our control. Incoming traffic is filtered out of these sockets
 * (ICMP_FILTER / ICMP6_FILTER block everything): replies are read from pcap, not from here.
 */
import raw from 'raw-socket';
import type { Socket } from 'raw-socket';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import type { Family, RawSender } from './types.js';

const IPPROTO_IP = 0;
const IP_HDRINCL = 3;
const IPPROTO_IPV6 = 41;
const IPV6_HDRINCL = 36;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SOL_RAW = 255;
const ICMP_FILTER = 1;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const ICMP6_FILTER = 1;
const IPPROTO_RAW = 255;

export const CAP_NET_RAW_HINT =
  'wireprobe needs CAP_NET_RAW to open raw sockets and captures: run as root, or grant it with ' +
  '`setcap cap_net_raw,cap_net_admin+ep "$(readlink -f "$(command -v node)")"`, or under systemd ' +
  'with AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN';

function isPermissionError(e: unknown): boolean {
  return /not permitted|permission denied|EPERM|EACCES/i.test(errorMessage(e));
}

export function createRawSender(): RawSender {
  const sockets = new Map<number, Socket>();
  const cbNoop = (): void => undefined;

  const open = (family: Family, protocol: number): Socket => {
    let s: Socket;
    try {
      s = raw.createSocket({
        protocol,
        addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6,
      });
    } catch (e) {
      if (isPermissionError(e)) throw new AppError(ErrorCodes.NET_ERR_PERMISSION, CAP_NET_RAW_HINT, { cause: e });
      throw new AppError(ErrorCodes.NET_ERR_SOCKET, `raw socket (IPv${family}, protocol ${protocol}): ${errorMessage(e)}`, { cause: e });
    }
    try {
      if (family === 4) {
        s.setOption(IPPROTO_IP, IP_HDRINCL, 1);
        if (protocol === IPPROTO_ICMP) s.setOption(SOL_RAW, ICMP_FILTER, 0xffffffff);
      } else {
        s.setOption(IPPROTO_IPV6, IPV6_HDRINCL, 1);
        if (protocol === IPPROTO_ICMPV6) {
          const blockAll = Buffer.alloc(32, 0xff);
          s.setOption(IPPROTO_ICMPV6, ICMP6_FILTER, blockAll, blockAll.length);
        }
      }
      s.setOption(SOL_SOCKET, SO_SNDBUF, 4 * 1024 * 1024);
      s.pauseRecv();
    } catch (e) {
      s.close();
      throw new AppError(ErrorCodes.NET_ERR_SOCKET, `raw socket options (IPv${family}, protocol ${protocol}): ${errorMessage(e)}`, { cause: e });
    }
    s.on('error', () => undefined);
    sockets.set(family * 256 + protocol, s);
    return s;
  };

  return {
    send(family, protocol, packet, length, dst) {
      // TCP and UDP go out through IPPROTO_RAW sockets, which receive nothing: a raw TCP or
      // UDP socket would be handed a copy of every segment the host receives
      const proto = protocol === IPPROTO_ICMP || protocol === IPPROTO_ICMPV6 ? protocol : IPPROTO_RAW;
      const s = sockets.get(family * 256 + proto) ?? open(family, proto);
      try {
        s.wrap.send(packet, 0, length, dst, cbNoop);
      } catch (e) {
        throw new AppError(ErrorCodes.NET_ERR_SEND, errorMessage(e), { cause: e });
      }
    },
    close() {
      for (const s of sockets.values()) s.close();
      sockets.clear();
    },
  };
}

/** Opens and closes one raw ICMP socket to learn whether we may (CAP_NET_RAW); throws the hint if not. */
export function checkRawPermission(): void {
  try {
    raw.createSocket({ protocol: IPPROTO_ICMP, addressFamily: raw.AddressFamily.IPv4 }).close();
  } catch (e) {
    if (isPermissionError(e)) throw new AppError(ErrorCodes.NET_ERR_PERMISSION, CAP_NET_RAW_HINT, { cause: e });
    throw new AppError(ErrorCodes.NET_ERR_SOCKET, `raw socket: ${errorMessage(e)}`, { cause: e });
  }
}
