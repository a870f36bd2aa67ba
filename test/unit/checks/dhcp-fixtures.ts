// The real DHCP frames of test/fixtures/dhcp/, and a way to make them answer another DISCOVER.
import { readFileSync } from 'node:fs';
import { hex } from '../packet/fixtures.js';

const DHCP_DIR = new URL('../../../../test/fixtures/dhcp/', import.meta.url);

export const loadDhcp = (name: string): Uint8Array => hex(readFileSync(new URL(name, DHCP_DIR), 'utf8'));

export const FIXTURE = {
  discover: loadDhcp('eth-discover-wireprobe.hex'),
  offerA: loadDhcp('eth-offer-dnsmasq-a.hex'),
  offerB: loadDhcp('eth-offer-dnsmasq-b.hex'),
  xid: 0xaa87d10f,
  probeMac: 'fe:52:f9:21:20:d0',
  macA: 'de:ab:71:c0:e8:11',
  macB: '8a:26:2a:54:c9:c4',
} as const;

/** BOOTP xid offset in the fixtures (Ethernet 14 + IPv4 20 + UDP 8 + 4). */
const XID_AT = 46;

/** A copy of an Ethernet fixture frame with its transaction id replaced. */
export function withXid(frame: Uint8Array, xid: number): Uint8Array {
  const copy = frame.slice();
  new DataView(copy.buffer).setUint32(XID_AT, xid >>> 0);
  return copy;
}
