// Pure reader for classic libpcap capture files (not pcapng).
// Supports the microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magics in both byte orders.

export interface PcapPacket {
  /** Capture timestamp in nanoseconds since the Unix epoch. */
  readonly tsNs: bigint;
  /** Captured bytes (may be shorter than origLen when a snap length applied). */
  readonly data: Uint8Array;
  /** Length of the packet on the wire. */
  readonly origLen: number;
}

export interface PcapFile {
  readonly linkType: number;
  readonly snapLen: number;
  readonly nanosecond: boolean;
  readonly packets: PcapPacket[];
  /** True when the file ended in the middle of a record (e.g. writer killed); the partial record is dropped. */
  readonly truncated: boolean;
}

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

export function readPcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < GLOBAL_HEADER_LEN) {
    throw new Error(`pcap: file too short for a global header (${bytes.length} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let littleEndian: boolean;
  let nanosecond: boolean;
  const magicLE = view.getUint32(0, true);
  const magicBE = view.getUint32(0, false);
  if (magicLE === MAGIC_MICRO || magicLE === MAGIC_NANO) {
    littleEndian = true;
    nanosecond = magicLE === MAGIC_NANO;
  } else if (magicBE === MAGIC_MICRO || magicBE === MAGIC_NANO) {
    littleEndian = false;
    nanosecond = magicBE === MAGIC_NANO;
  } else {
    throw new Error(`pcap: unknown magic 0x${magicBE.toString(16).padStart(8, '0')} (pcapng is not supported)`);
  }
  const major = view.getUint16(4, littleEndian);
  if (major !== 2) throw new Error(`pcap: unsupported major version ${major}`);
  const snapLen = view.getUint32(16, littleEndian);
  // The upper bits of the link-type field may carry FCS information; the type is the low 16 bits.
  const linkType = view.getUint32(20, littleEndian) & 0xffff;
  const fractionToNs = nanosecond ? 1n : 1000n;

  const packets: PcapPacket[] = [];
  let offset = GLOBAL_HEADER_LEN;
  let truncated = false;
  while (offset < bytes.length) {
    if (offset + RECORD_HEADER_LEN > bytes.length) {
      truncated = true;
      break;
    }
    const sec = view.getUint32(offset, littleEndian);
    const frac = view.getUint32(offset + 4, littleEndian);
    const inclLen = view.getUint32(offset + 8, littleEndian);
    const origLen = view.getUint32(offset + 12, littleEndian);
    const start = offset + RECORD_HEADER_LEN;
    if (start + inclLen > bytes.length) {
      truncated = true;
      break;
    }
    if (nanosecond ? frac >= 1_000_000_000 : frac >= 1_000_000) {
      throw new Error(`pcap: record at offset ${offset} has an invalid sub-second field ${frac}`);
    }
    packets.push({
      tsNs: BigInt(sec) * 1_000_000_000n + BigInt(frac) * fractionToNs,
      data: bytes.subarray(start, start + inclLen),
      origLen,
    });
    offset = start + inclLen;
  }
  return { linkType, snapLen, nanosecond, packets, truncated };
}

/** Builds a pcap file; used by the lab's own tests to check the reader against known bytes. */
export function writePcap(
  linkType: number,
  packets: readonly { tsNs: bigint; data: Uint8Array; origLen?: number }[],
  opts: { nanosecond?: boolean; littleEndian?: boolean; snapLen?: number } = {},
): Uint8Array {
  const nano = opts.nanosecond ?? true;
  const le = opts.littleEndian ?? true;
  const total = GLOBAL_HEADER_LEN + packets.reduce((n, p) => n + RECORD_HEADER_LEN + p.data.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, nano ? MAGIC_NANO : MAGIC_MICRO, le);
  view.setUint16(4, 2, le);
  view.setUint16(6, 4, le);
  view.setUint32(16, opts.snapLen ?? 262144, le);
  view.setUint32(20, linkType, le);
  let offset = GLOBAL_HEADER_LEN;
  for (const p of packets) {
    const sec = p.tsNs / 1_000_000_000n;
    const subNs = p.tsNs % 1_000_000_000n;
    view.setUint32(offset, Number(sec), le);
    view.setUint32(offset + 4, Number(nano ? subNs : subNs / 1000n), le);
    view.setUint32(offset + 8, p.data.length, le);
    view.setUint32(offset + 12, p.origLen ?? p.data.length, le);
    out.set(p.data, offset + RECORD_HEADER_LEN);
    offset += RECORD_HEADER_LEN + p.data.length;
  }
  return out;
}
