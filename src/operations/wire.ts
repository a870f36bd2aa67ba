/**
 * The packets of one operation: a probe of the operation's protocol for each (TTL, flow),
 * built once from the probe types' templates and sent through the engine like any probe (the
 * engine stamps each send with its slot's identity). The flow identifier stays constant for
 * all the probes of one flow (Paris traceroute): TCP and UDP keep their 5-tuple (source port
 * = the flow's; the engine varies the TCP sequence number, or the UDP tag in the IPv4
 * identification / IPv6 UDP checksum), ICMP echo keeps its checksum (compensated in the data).
 * Flows differ by source port, or by the ICMP checksum (Dublin traceroute's path enumeration).
 */
import { addrHash } from '../lib/address.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import type { WireProbe } from '../net/probe-types.js';
import type { Family } from '../net/types.js';
import { TCP_MAX_DATA } from '../net/l4-ids.js';
import { createEchoTemplate, ECHO_FLOW_DATA_LENGTH, ICMP_ECHO_HEADER_LENGTH, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../packet/icmp.js';
import { createSynTemplate, TCP_HEADER_LENGTH } from '../packet/tcp.js';
import { createUdpTemplate, UDP_HEADER_LENGTH } from '../packet/udp.js';
import type { SourcePorts } from '../net/engine.js';
import { icmpProbe, type EchoProbe } from '../probes/icmp.js';
import { probeKinds } from '../probes/index.js';
import { tcpSynProbe, type TcpProbe } from '../probes/tcp-syn.js';
import type { ProbeKind } from '../probes/types.js';
import { udpPayloadSize, udpUnreachableProbe, type UdpProbe } from '../probes/udp-unreachable.js';
import type { OperationProtocol } from './types.js';

/** The engine's numbers of the three probe types (positions in its list of types). */
export interface OperationKinds {
  readonly icmp: number;
  readonly tcp: number;
  readonly udp: number;
}

/** Source ports of the operations' TCP and UDP flows (the engine's capture always admits them). */
export const OPERATION_PORT_FIRST = 61000;
export const OPERATION_PORT_COUNT = 256;

/** What every packet of one operation shares. */
export interface FlowSpec {
  readonly protocol: OperationProtocol;
  readonly family: Family;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** canonical destination address */
  readonly address: string;
  readonly dstPort: number;
  /** bytes beyond the protocol header */
  readonly size: number;
  readonly dscp: number;
  readonly capture: number;
  readonly timeoutMs: number;
  readonly kinds: OperationKinds;
}

/** Builds (and keeps) the probe of each (TTL, flow) of one operation. */
export class FlowProbes {
  readonly #f: FlowSpec;
  readonly #peerHash: number;
  readonly #built = new Map<number, WireProbe>();
  /** source port of flow 0; flow n uses the next ports, wrapping in the operations' range */
  readonly #portBase: number;

  constructor(f: FlowSpec, portOffset: number) {
    this.#f = f;
    this.#peerHash = addrHash(f.dst, 0, f.dst.length);
    this.#portBase = portOffset;
    if (f.protocol === 'tcp' && f.size > TCP_MAX_DATA) {
      throw new AppError(ErrorCodes.OPS_ERR_SPEC, `a TCP SYN carries at most ${TCP_MAX_DATA} bytes of data (asked ${f.size})`);
    }
  }

  /** the source port of `flow` (TCP, UDP) */
  port(flow: number): number {
    return OPERATION_PORT_FIRST + ((this.#portBase + flow) % OPERATION_PORT_COUNT);
  }

  /** the probe with this TTL on this flow */
  probe(ttl: number, flow: number): WireProbe {
    const key = ttl * 65536 + flow;
    let p = this.#built.get(key);
    if (p === undefined) {
      p = this.#build(ttl, flow);
      this.#built.set(key, p);
    }
    return p;
  }

  #build(ttl: number, flow: number): WireProbe {
    const f = this.#f;
    const ip = { family: f.family, src: f.src, dst: f.dst, tos: f.dscp << 2, ttl, dontFragment: false };
    const base = { family: f.family, dst: f.address, peerHash: this.#peerHash, capture: f.capture, timeoutMs: f.timeoutMs };
    if (f.protocol === 'icmp') {
      const template = createEchoTemplate({
        ...ip,
        ipPayloadSize: ICMP_ECHO_HEADER_LENGTH + Math.max(f.size, ECHO_FLOW_DATA_LENGTH),
        fixedChecksum: flowChecksum(flow),
      });
      const probe: EchoProbe = {
        ...base, kind: f.kinds.icmp, protocol: f.family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
        wire: template.bytes, length: template.length, template, errors: true,
      };
      return probe;
    }
    const srcPort = this.port(flow);
    if (f.protocol === 'tcp') {
      const template = createSynTemplate({ ...ip, dstPort: f.dstPort, ipPayloadSize: TCP_HEADER_LENGTH + f.size });
      const probe: TcpProbe = {
        ...base, kind: f.kinds.tcp, protocol: IPPROTO_TCP, wire: template.bytes, length: template.length, template,
        dstPort: f.dstPort, tos: f.dscp << 2, sources: null, srcPort, srcIndex: 0,
      };
      return probe;
    }
    const template = createUdpTemplate({ ...ip, dstPort: f.dstPort, ipPayloadSize: udpPayloadSize(f.family, UDP_HEADER_LENGTH + f.size) });
    const probe: UdpProbe = {
      ...base, kind: f.kinds.udp, protocol: IPPROTO_UDP, wire: template.bytes, length: template.length, template,
      dstPort: f.dstPort, srcPort,
    };
    return probe;
  }
}

/** The ICMP checksum of echo flow `flow`: distinct per flow, never 0xffff. */
export function flowChecksum(flow: number): number {
  return (0x1000 + flow * 0x0101) % 0xffff;
}

/** The engine's numbers of the operations' probe types, from its list of types. */
export function operationKinds(kinds: readonly ProbeKind[] = probeKinds): OperationKinds {
  const number = (k: ProbeKind): number => {
    const n = kinds.indexOf(k);
    if (n < 0) throw new RangeError(`probe type ${k.type} is not in the engine's list`);
    return n;
  };
  return { icmp: number(icmpProbe), tcp: number(tcpSynProbe), udp: number(udpUnreachableProbe) };
}

/** The operations' source ports, for the engine's capture filter (EngineDeps.reservedPorts). */
export function operationPorts(): SourcePorts {
  const range: readonly (readonly [number, number])[] = [[OPERATION_PORT_FIRST, OPERATION_PORT_FIRST + OPERATION_PORT_COUNT - 1]];
  return { [tcpSynProbe.type]: range, [udpUnreachableProbe.type]: range };
}
