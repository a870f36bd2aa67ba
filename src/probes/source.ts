/** Pieces shared by the probe types: source address choice, the round robins, the prepared probe's base. */
import { addrHash, parseIp } from '../lib/address.js';
import type { Engine } from '../net/engine.js';
import type { WireProbe } from '../net/probe-types.js';
import type { Family, OutcomeSink } from '../net/types.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import type { PrepareInput, PreparedProbe } from './types.js';

/** The destination's bytes; the address comes canonical from the target manager. */
export function destinationBytes(address: string): Uint8Array {
  const dst = parseIp(address);
  if (!dst) throw new AppError(ErrorCodes.PKT_ERR_ENCODE, `not an IP address: ${address}`);
  return dst;
}

/**
 * A prepared probe of (target, group, address): what every probe tells the engine (where it
 * goes, its type, its template's packet, sent as is) and send(). One class per probe type, so
 * every probe of a type shares one hidden class and its methods, and keeps no closure.
 */
export abstract class TargetProbe<T extends { readonly bytes: Buffer; readonly length: number }> implements WireProbe, PreparedProbe {
  readonly family: Family;
  readonly dst: string;
  readonly peerHash: number;
  readonly capture: number;
  readonly timeoutMs: number;
  readonly kind: number;
  readonly protocol: number;
  readonly wire: Buffer;
  readonly length: number;
  readonly template: T;

  constructor({ target, address, family, capture, kind }: PrepareInput, dst: Uint8Array, protocol: number, template: T) {
    this.family = family;
    this.dst = address;
    this.peerHash = addrHash(dst, 0, dst.length);
    this.capture = capture;
    this.timeoutMs = target.timeout * 1000;
    this.kind = kind;
    this.protocol = protocol;
    this.wire = template.bytes;
    this.length = template.length;
    this.template = template;
  }

  abstract send(engine: Engine, sink: OutcomeSink, index: number): void;
}

/**
 * The first source of the group's subnet round robin, else the group's fixed source, else the
 * kernel's preferred source for the route, else `ipv4Fallback` for IPv4 (an echo may go out
 * with 0.0.0.0: the kernel fills it in).
 */
export function sourceAddress({ group, family, route, address, rotation }: PrepareInput, ipv4Fallback?: Uint8Array): Uint8Array {
  if (rotation.sources) return Uint8Array.from(rotation.sources.address(0));
  const text = (family === 4 ? group.src_ipv4 : group.src_ipv6) ?? route.prefsrc;
  const src = text ? parseIp(text) : family === 4 ? ipv4Fallback ?? null : null;
  if (!src || src.length !== (family === 4 ? 4 : 16)) {
    throw new AppError(ErrorCodes.NET_ERR_ROUTE, `no IPv${family} source address to reach ${address} via ${route.dev}`);
  }
  return src;
}
