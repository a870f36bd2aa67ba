/**
 * Ethernet/IPv4/IPv6 frames of known flows, for pcap files that softflowd replays: every flow
 * is `packets` packets of `size` IP bytes each, so its NetFlow totals are known.
 */
import { parseIp } from '../../src/lib/address.js';

export interface PcapFlow {
  readonly src: string;
  readonly dst: string;
  readonly proto: 6 | 17;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly packets: number;
  /** IP bytes per packet (header included) */
  readonly size: number;
}

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** one frame of `f` (Ethernet II) */
export function flowFrame(f: PcapFlow, seq: number): Uint8Array {
  const src = parseIp(f.src)!;
  const dst = parseIp(f.dst)!;
  const v6 = src.length === 16;
  const ipHeader = v6 ? 40 : 20;
  const l4 = f.proto === 6 ? 20 : 8;
  if (f.size < ipHeader + l4) throw new Error('packet size below the headers');
  const frame = new Uint8Array(14 + f.size);
  frame.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  frame[12] = v6 ? 0x86 : 0x08;
  frame[13] = v6 ? 0xdd : 0x00;
  const ip = frame.subarray(14);
  if (v6) {
    ip[0] = 0x60;
    ip[4] = (f.size - 40) >>> 8;
    ip[5] = (f.size - 40) & 0xff;
    ip[6] = f.proto;
    ip[7] = 64;
    ip.set(src, 8);
    ip.set(dst, 24);
  } else {
    ip[0] = 0x45;
    ip[2] = f.size >>> 8;
    ip[3] = f.size & 0xff;
    ip[4] = (seq >>> 8) & 0xff;
    ip[5] = seq & 0xff;
    ip[8] = 64;
    ip[9] = f.proto;
    ip.set(src, 12);
    ip.set(dst, 16);
    const c = checksum(ip.subarray(0, 20));
    ip[10] = c >>> 8;
    ip[11] = c & 0xff;
  }
  const t = ip.subarray(ipHeader);
  t[0] = f.srcPort >>> 8;
  t[1] = f.srcPort & 0xff;
  t[2] = f.dstPort >>> 8;
  t[3] = f.dstPort & 0xff;
  if (f.proto === 6) {
    t[4] = (seq >>> 24) & 0xff;
    t[7] = seq & 0xff;
    t[12] = 0x50;
    t[13] = 0x18; // PSH ACK: no SYN/FIN, so the flow stays one flow until it expires
    t[14] = 0xff;
  } else {
    t[4] = (f.size - ipHeader) >>> 8;
    t[5] = (f.size - ipHeader) & 0xff;
  }
  return frame;
}
