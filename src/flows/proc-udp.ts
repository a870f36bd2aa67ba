/**
 * Kernel drops of our UDP sockets, from /proc/net/udp and /proc/net/udp6 (the `drops` column
 * of the line whose local address and port are the socket's). Pure parsing; the caller reads
 * the files (paths injected).
 *
 * Matched by address and port, not by the socket's inode: Node 20's dgram does not expose the
 * socket's descriptor (only through the private `_handle.fd`, which this project does not use).
 * The match is still one socket: the collector binds with `exclusive: true` and without
 * SO_REUSEADDR/SO_REUSEPORT, so no other socket, of this process or another, can hold the same
 * local address and port (a wildcard and a specific address on one port cannot both be bound).
 */
import { parseIp } from '../lib/address.js';

/** The local_address column for an address and port: hex, each 32-bit word in host (little-endian) order. */
export function procLocalAddress(address: string, port: number): string | null {
  const b = parseIp(address);
  if (b === null) return null;
  let hex = '';
  for (let w = 0; w < b.length; w += 4) {
    for (let i = 3; i >= 0; i--) hex += b[w + i]!.toString(16).padStart(2, '0');
  }
  return `${hex.toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The drops of the socket bound to `local` (procLocalAddress form) in the text of
 * /proc/net/udp or /proc/net/udp6; null when no line matches.
 */
export function socketDrops(text: string, local: string): number | null {
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 13 || cols[1] !== local) continue;
    const drops = Number(cols[12]);
    return Number.isSafeInteger(drops) ? drops : null;
  }
  return null;
}
