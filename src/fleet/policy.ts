/**
 * What a member executes when the fleet asks: the kinds and destination prefixes of its OWN
 * `fleet.allow`, whatever the request says. A ping, traceroute or mtr destination must be an
 * address literal inside one of the prefixes (a name could resolve anywhere). Pure.
 */
import type { FleetConfig, FleetOperationKind } from '../config/types.js';
import { cidrNetwork, parseCidr, parseIp, type Cidr } from '../lib/address.js';

export interface Policy {
  /** null when allowed, else why not (for the refusal and the log) */
  refusal(kind: FleetOperationKind, destination: string | null): string | null;
}

function inside(address: Uint8Array, cidr: Cidr, network: Uint8Array): boolean {
  if (address.length !== network.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((address[i] ?? 0) & mask) !== (network[i] ?? 0)) return false;
  }
  return true;
}

export function createPolicy(allow: FleetConfig['allow']): Policy {
  const kinds = new Set(allow.operations);
  const prefixes = allow.destinations.flatMap((p) => {
    const cidr = parseCidr(p);
    return cidr === null ? [] : [{ cidr, network: cidrNetwork(cidr) }];
  });
  return {
    refusal(kind, destination) {
      if (!kinds.has(kind)) return `this member does not run ${kind} operations (fleet.allow.operations: ${[...kinds].join(', ') || 'none'})`;
      if (kind === 'check') return null;
      const address = destination === null ? null : parseIp(destination);
      if (address === null) return `destination ${JSON.stringify(destination)} is not an address literal (names are refused: fleet.allow.destinations holds prefixes)`;
      if (!prefixes.some((p) => inside(address, p.cidr, p.network))) return `destination ${destination} is outside fleet.allow.destinations of this member`;
      return null;
    },
  };
}
