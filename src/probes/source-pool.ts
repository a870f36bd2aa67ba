/**
 * The source-address round robin of a group's `src_subnet_ipv4/6` (netprobify §1.3): host
 * number k of the subnet is network + k for k = 1 .. size − 1, so the network address is
 * skipped and the last address is used (a /29 gives .1 – .7). Subnets larger than 2^32
 * addresses cycle through their first 2^32 − 1 hosts.
 */
import { addToAddress, cidrNetwork, parseCidr } from '../lib/address.js';

export interface SourcePool {
  /** number of source addresses in the cycle */
  readonly count: number;
  /** source number `i` (0-based, < count); the returned array is reused by the next call */
  address(i: number): Uint8Array;
}

/** A pool for `cidr` (validated by the config loader: a network with host bits clear, at least 2 addresses). */
export function createSourcePool(cidr: string): SourcePool {
  const parsed = parseCidr(cidr);
  if (parsed === null || parsed.prefix === parsed.bits) {
    throw new RangeError(`not a source subnet with at least 2 addresses: ${cidr}`);
  }
  const hostBits = parsed.bits - parsed.prefix;
  const count = hostBits >= 32 ? 0xffffffff : 2 ** hostBits - 1;
  const network = cidrNetwork(parsed);
  const scratch = Uint8Array.from(network);
  return {
    count,
    address(i: number): Uint8Array {
      // host bits of the network are zero, so adding never carries out of the low 32 bits
      addToAddress(network, (i % count) + 1, scratch);
      return scratch;
    },
  };
}
