/**
 * IP address text <-> bytes, and a cheap hash of address bytes for demultiplexing.
 */

const MAX_IPV6_TEXT = 45; // 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255'.length

/**
 * Parses a strict dotted quad from s[start..end) into out[outOff..outOff+4).
 * Returns false on anything but four 1-3 digit decimal octets <= 255 without
 * leading zeros (a lone "0" is fine).
 */
function parseDotted(s: string, start: number, end: number, out: Uint8Array, outOff: number): boolean {
  let octet = 0;
  let digits = 0;
  let parts = 0;
  let firstDigit = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x2e; // virtual trailing '.'
    if (c === 0x2e) {
      if (digits === 0 || parts === 4) return false;
      if (digits > 1 && firstDigit === 0) return false;
      out[outOff + parts] = octet;
      parts++;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 0) firstDigit = c - 0x30;
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (digits > 3 || octet > 255) return false;
    } else {
      return false;
    }
  }
  return parts === 4;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20; // ASCII lower-case
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Parses the colon-separated groups of s[start..end) (no '::' inside) into
 * out[outOff..] and returns the number of 16-bit groups written, or -1.
 * The last group may be a dotted quad when allowV4Tail is set (it counts as two).
 */
function parseGroups(
  s: string,
  start: number,
  end: number,
  out: Uint8Array,
  outOff: number,
  allowV4Tail: boolean,
): number {
  if (start === end) return 0;
  let groups = 0;
  let pos = start;
  while (pos <= end) {
    let stop = s.indexOf(':', pos);
    if (stop < 0 || stop > end) stop = end;
    const len = stop - pos;
    if (stop === end && allowV4Tail && s.indexOf('.', pos) >= 0 && s.indexOf('.', pos) < end) {
      if (outOff + groups * 2 + 4 > 16) return -1;
      if (!parseDotted(s, pos, end, out, outOff + groups * 2)) return -1;
      return groups + 2;
    }
    if (len < 1 || len > 4 || groups >= 8) return -1;
    let v = 0;
    for (let i = pos; i < stop; i++) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) return -1;
      v = (v << 4) | h;
    }
    if (outOff + groups * 2 + 2 > 16) return -1;
    out[outOff + groups * 2] = v >> 8;
    out[outOff + groups * 2 + 1] = v & 0xff;
    groups++;
    pos = stop + 1;
  }
  return groups;
}

function parseIpv6(s: string): Uint8Array | null {
  if (s.length < 2 || s.length > MAX_IPV6_TEXT) return null;
  const out = new Uint8Array(16);
  const gap = s.indexOf('::');
  if (gap < 0) {
    return parseGroups(s, 0, s.length, out, 0, true) === 8 ? out : null;
  }
  if (s.indexOf('::', gap + 1) >= 0) return null; // at most one '::' (also rejects ':::')
  const head = parseGroups(s, 0, gap, out, 0, false);
  if (head < 0) return null;
  const tail = new Uint8Array(16);
  const tailGroups = parseGroups(s, gap + 2, s.length, tail, 0, true);
  if (tailGroups < 0 || head + tailGroups > 7) return null;
  out.set(tail.subarray(0, tailGroups * 2), 16 - tailGroups * 2);
  return out;
}

/**
 * Parses an IPv4 dotted quad (4 bytes) or an IPv6 address (16 bytes, with optional
 * '::' and dotted IPv4 tail, case-insensitive, no zone id). Returns null otherwise.
 */
export function parseIp(s: string): Uint8Array | null {
  if (s.indexOf(':') >= 0) return parseIpv6(s);
  if (s.length < 7 || s.length > 15) return null;
  const out = new Uint8Array(4);
  return parseDotted(s, 0, s.length, out, 0) ? out : null;
}

function formatDotted(b: Uint8Array, off: number): string {
  return `${b[off]!}.${b[off + 1]!}.${b[off + 2]!}.${b[off + 3]!}`;
}

function isV4Mapped(b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (b[off + i] !== 0) return false;
  return b[off + 10] === 0xff && b[off + 11] === 0xff;
}

function formatIpv6(b: Uint8Array, off: number): string {
  if (isV4Mapped(b, off)) return `::ffff:${formatDotted(b, off + 12)}`;
  // Longest run of at least two zero groups; the first one wins a tie (RFC 5952 4.2).
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && b[off + g * 2] === 0 && b[off + g * 2 + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      if (g - runStart > bestLen) {
        bestStart = runStart;
        bestLen = g - runStart;
      }
      runStart = -1;
    }
  }
  let text = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      text += '::';
      g += bestLen - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += ((b[off + g * 2]! << 8) | b[off + g * 2 + 1]!).toString(16);
  }
  return text;
}

/**
 * Formats 4 bytes as a dotted quad or 16 bytes as RFC 5952 canonical IPv6 text.
 * Any other length, or a range outside the buffer, yields ''.
 */
export function formatIp(b: Uint8Array, off = 0, len = b.length - off): string {
  if (off < 0 || off + len > b.length) return '';
  if (len === 4) return formatDotted(b, off);
  if (len === 16) return formatIpv6(b, off);
  return '';
}

/** 4 or 6 when s parses as an address of that family (see parseIp), else 0. */
export function ipFamily(s: string): 4 | 6 | 0 {
  const b = parseIp(s);
  if (b === null) return 0;
  return b.length === 4 ? 4 : 6;
}

/** FNV-1a (32-bit) over buf[off..off+len), clamped to the buffer; an unsigned 32-bit value. */
export function addrHash(buf: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  const end = off + len < buf.length ? off + len : buf.length;
  for (let i = off < 0 ? 0 : off; i < end; i++) {
    h = Math.imul(h ^ buf[i]!, 0x01000193);
  }
  return h >>> 0;
}
