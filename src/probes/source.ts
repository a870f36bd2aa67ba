/** Pieces shared by the probe types: source address choice and source-port round robin. */
import { parseIp } from '../packet/addr.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import type { PrepareInput } from './types.js';

/** The group's fixed source, else the kernel's preferred source for the route. */
export function sourceAddress({ group, family, route, address }: PrepareInput): Uint8Array {
  const text = (family === 4 ? group.src_ipv4 : group.src_ipv6) ?? route.prefsrc;
  const src = text ? parseIp(text) : null;
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
