/**
 * The pure half of the dhcp check: gathers the DHCPOFFERs answering one DISCOVER from captured
 * frames, and turns them into a CheckResult (which servers answered, which are not allowed).
 */
import { decodeDhcpFrame, DhcpMessageType } from '../packet/dhcp.js';
import type { CheckResult, MetricSpec, Sample } from './types.js';

export const DHCP_METRICS = {
  offerInfo: 'wireprobe_dhcp_offer_info',
  servers: 'wireprobe_dhcp_servers',
  rogueServers: 'wireprobe_dhcp_rogue_servers',
  offerDelay: 'wireprobe_dhcp_offer_delay_seconds',
} as const;

export const dhcpMetricSpecs: readonly MetricSpec[] = [
  {
    name: DHCP_METRICS.offerInfo,
    help: 'A DHCP server that answered the last DHCPDISCOVER (always 1): server identifier (option 54, or the source address without it), source address and MAC, offered address, and whether the server is allowed',
    type: 'gauge',
    labelNames: ['server_id', 'source_ip', 'source_mac', 'offered_address', 'allowed'],
  },
  { name: DHCP_METRICS.servers, help: 'Distinct DHCP servers that answered the last DHCPDISCOVER', type: 'gauge', labelNames: [] },
  { name: DHCP_METRICS.rogueServers, help: 'DHCP servers that answered the last DHCPDISCOVER and are not in the allowed set', type: 'gauge', labelNames: [] },
  {
    name: DHCP_METRICS.offerDelay,
    help: 'Seconds between the DHCPDISCOVER and the server\'s first DHCPOFFER, both stamped by the kernel capture',
    type: 'gauge',
    labelNames: ['server_id', 'source_mac'],
  },
];

/** One server's first offer. A server is its identifier (or source address) seen from one MAC. */
export interface Offer {
  readonly serverId: string;
  readonly sourceIp: string;
  readonly sourceMac: string;
  readonly offeredAddress: string;
  readonly tsNs: bigint;
}

/** Distinct servers kept per run; a flood of forged offers cannot grow memory past this. */
export const MAX_TRACKED_SERVERS = 1024;

export interface OfferCollector {
  /** feeds one captured frame (any DHCP traffic on the interface) */
  onFrame(tsNs: bigint, frame: Uint8Array, linkType: number): void;
  readonly offers: readonly Offer[];
  /** kernel timestamp of our own DISCOVER, when the capture saw it leave */
  readonly discoverNs: bigint | null;
  /** frames on ports 67/68 that could not be decoded */
  readonly malformed: number;
}

/** Collects the offers with transaction id `xid` addressed to client `chaddr` (`aa:bb:…`). */
export function createOfferCollector(xid: number, chaddr: string): OfferCollector {
  const byServer = new Map<string, Offer>();
  let discoverNs: bigint | null = null;
  let malformed = 0;
  return {
    onFrame(tsNs, frame, linkType) {
      const d = decodeDhcpFrame(frame, frame.length, linkType);
      if (d === null) return;
      if ('error' in d) {
        malformed++;
        return;
      }
      if (d.xid !== xid >>> 0 || d.chaddr !== chaddr) return;
      if (d.op === 1 && d.messageType === DhcpMessageType.DISCOVER) {
        discoverNs ??= tsNs;
        return;
      }
      if (d.op !== 2 || d.messageType !== DhcpMessageType.OFFER) return;
      const serverId = d.serverId === '' ? d.srcIp : d.serverId;
      const key = `${serverId}|${d.srcMac}`;
      if (byServer.has(key) || byServer.size >= MAX_TRACKED_SERVERS) return;
      byServer.set(key, { serverId, sourceIp: d.srcIp, sourceMac: d.srcMac, offeredAddress: d.yiaddr, tsNs });
    },
    get offers() {
      return [...byServer.values()];
    },
    get discoverNs() {
      return discoverNs;
    },
    get malformed() {
      return malformed;
    },
  };
}

export interface OfferPolicy {
  readonly iface: string;
  /** allowed server identifiers (option 54) */
  readonly allowedServers: ReadonlySet<string>;
  /** allowed source MACs, lower case `aa:bb:…` */
  readonly allowedMacs: ReadonlySet<string>;
  readonly minServers: number;
  readonly maxReported: number;
}

function describe(o: Offer): string {
  return `${o.serverId} (from ${o.sourceIp} ${o.sourceMac || 'no MAC'}, offering ${o.offeredAddress})`;
}

function outcome(rogue: readonly Offer[], total: number, p: OfferPolicy): Pick<CheckResult, 'ok' | 'reason' | 'message'> {
  if (rogue.length > 0) {
    const list = rogue.slice(0, 4).map(describe).join(', ');
    const more = rogue.length > 4 ? ` and ${rogue.length - 4} more` : '';
    return { ok: false, reason: 'rogue_server', message: `${rogue.length} DHCP server(s) on ${p.iface} not allowed: ${list}${more}` };
  }
  if (total === 0 && p.minServers > 0) {
    return { ok: false, reason: 'no_offer', message: `no DHCP server answered on ${p.iface}` };
  }
  if (total < p.minServers) {
    return { ok: false, reason: 'too_few_servers', message: `${total} DHCP server(s) answered on ${p.iface}, expected at least ${p.minServers}` };
  }
  return { ok: true, message: `${total} DHCP server(s) answered on ${p.iface}, all allowed` };
}

/**
 * The check's result for the offers of one run: rogue servers first, then by identifier, MAC;
 * at most `maxReported` servers get offer_info and delay series; counts cover all of them.
 */
export function evaluateOffers(offers: readonly Offer[], discoverNs: bigint | null, p: OfferPolicy): CheckResult {
  const isAllowed = (o: Offer): boolean => p.allowedServers.has(o.serverId) || p.allowedMacs.has(o.sourceMac);
  const sorted = [...offers].sort(
    (a, b) => Number(isAllowed(a)) - Number(isAllowed(b)) || a.serverId.localeCompare(b.serverId) || a.sourceMac.localeCompare(b.sourceMac),
  );
  const rogue = sorted.filter((o) => !isAllowed(o));
  const samples: Sample[] = [
    { metric: DHCP_METRICS.servers, labels: {}, value: sorted.length },
    { metric: DHCP_METRICS.rogueServers, labels: {}, value: rogue.length },
  ];
  for (const o of sorted.slice(0, p.maxReported)) {
    const labels = {
      server_id: o.serverId,
      source_ip: o.sourceIp,
      source_mac: o.sourceMac,
      offered_address: o.offeredAddress,
      allowed: String(isAllowed(o)),
    };
    samples.push({ metric: DHCP_METRICS.offerInfo, labels, value: 1 });
    if (discoverNs !== null && o.tsNs >= discoverNs) {
      const value = Number(o.tsNs - discoverNs) / 1e9;
      samples.push({ metric: DHCP_METRICS.offerDelay, labels: { server_id: o.serverId, source_mac: o.sourceMac }, value });
    }
  }
  return { ...outcome(rogue, sorted.length, p), samples };
}
