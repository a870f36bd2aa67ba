/** Pieces shared by the probe types: source address choice and source-port round robin. */
import { addrHash, parseIp } from '../lib/address.js';
import type { WireProbe } from '../net/probe-types.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import type { PrepareInput } from './types.js';

/** The destination's bytes; the address comes canonical from the target manager. */
export function destinationBytes(address: string): Uint8Array {
  const dst = parseIp(address);
  if (!dst) throw new AppError(ErrorCodes.PKT_ERR_ENCODE, `not an IP address: ${address}`);
  return dst;
}

/**
 * What every probe of (target, group, address) tells the engine: where it goes, its type, and
 * a Buffer view of its template's packet, made once per probe so a send converts nothing; then
 * the template and the type's own fields (`extra`).
 *
 * One literal completed by Object.assign: spreading a built probe into another literal
 * (`{ ...wireProbe(…), template }`) gave every probe a hidden class of its own in V8 (peerHash is
 * a small integer for some addresses and a heap number for others), ~330 bytes per target.
 */
export function wireProbe<T extends { readonly bytes: Uint8Array; readonly length: number }, E extends object>(
  { target, address, family, capture, kind }: PrepareInput,
  dst: Uint8Array,
  protocol: number,
  template: T,
  extra: E,
): WireProbe & { readonly template: T } & E {
  const probe = {
    family, dst: address, peerHash: addrHash(dst, 0, dst.length), capture, timeoutMs: target.timeout * 1000,
    kind, protocol, wire: Buffer.from(template.bytes.buffer, template.bytes.byteOffset, template.length), length: template.length, template,
  };
  return Object.assign(probe, extra);
}

/**
 * The first source of the group's subnet round robin, else the group's fixed source, else the
 * kernel's preferred source for the route, else `ipv4Fallback` for IPv4 (an echo may go out
 * with 0.0.0.0: the kernel fills it in).
 */
export function sourceAddress({ group, family, route, address, sources }: PrepareInput, ipv4Fallback?: Uint8Array): Uint8Array {
  if (sources) return Uint8Array.from(sources.address(0));
  const text = (family === 4 ? group.src_ipv4 : group.src_ipv6) ?? route.prefsrc;
  const src = text ? parseIp(text) : family === 4 ? ipv4Fallback ?? null : null;
  if (!src || src.length !== (family === 4 ? 4 : 16)) {
    throw new AppError(ErrorCodes.NET_ERR_ROUTE, `no IPv${family} source address to reach ${address} via ${route.dev}`);
  }
  return src;
}

/** The next source port of the group's range for this (target, group). */
export function nextPort(input: PrepareInput): number {
  const { src_port_a: a, src_port_z: z } = input.group;
  return a + (input.portCursor.n++ % (z - a + 1));
}

/**
 * The next source of the group's subnet round robin, written into `template`; its number
 * (for the engine's RST), or 0 without a round robin. Like ports, it carries over rounds.
 */
export function nextSource(input: PrepareInput, template: { setSource(src: Uint8Array): void }): number {
  const pool = input.sources;
  if (!pool) return 0;
  const i = input.sourceCursor.n++ % pool.count;
  template.setSource(pool.address(i));
  return i;
}
