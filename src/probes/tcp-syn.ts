/**
 * TCP SYN, half-open (netprobify type TCPsyn), IPv4 and IPv6. A SYN-ACK (port open) and a
 * RST (port closed) both mean the host answered; the half-open connection is reset as soon
 * as the SYN-ACK is seen. ICMP errors answering the SYN are their own outcome, not loss.
 */
import { createSynTemplate, TCP_HEADER_LENGTH } from '../packet/tcp.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import type { TcpProbe } from '../net/probe-types.js';
import { TCP_MAX_DATA } from '../net/l4-ids.js';
import { destinationBytes, nextPort, nextSource, probeBase, sourceAddress, wireOf } from './source.js';
import type { ProbeKind } from './types.js';

export const tcpSynProbe: ProbeKind = {
  type: 'TCPsyn',
  metricPrefix: 'tcpsyn',
  prepare(input) {
    const { target, group, family } = input;
    const dst = destinationBytes(input.address);
    // netprobify §3.5: the target's size (data carried in the SYN); the group's is ignored
    const size = Math.max(TCP_HEADER_LENGTH, target.ip_payload_size ?? TCP_HEADER_LENGTH);
    if (size - TCP_HEADER_LENGTH > TCP_MAX_DATA) {
      throw new AppError(ErrorCodes.PKT_ERR_ENCODE, `TCPsyn ip_payload_size ${size} carries more than ${TCP_MAX_DATA} bytes of data`);
    }
    const src = sourceAddress(input);
    const tos = group.dscp << 2;
    const template = createSynTemplate({
      family, src, dst, tos, ttl: 64, dontFragment: target.dont_fragment, dstPort: target.dst_port ?? 0, ipPayloadSize: size,
    });
    const probe: TcpProbe = {
      ...probeBase(input, dst),
      template,
      wire: wireOf(template),
      dstPort: target.dst_port ?? 0,
      rst: { src, dst, tos, ttl: 64 },
      sources: input.sources,
    };
    return {
      send(engine, sink, index) {
        const srcIndex = nextSource(input, template);
        engine.sendTcpSyn(probe, nextPort(input), sink, index, srcIndex);
      },
    };
  },
};
