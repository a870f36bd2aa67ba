// Sends IPFIX datagrams (30 flows each, template first and every 500 datagrams) to one or more
// 127.0.0.1 ports at --rate datagrams/s per port for --seconds, the same datagrams to every port;
// prints `{"sent":N}` per port. For bench/flow-bench.ts.
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { dataSet, ipfixDatagram, makeFlows, V4_FIELDS } from '../test/fakes/flow-builder.js';

const { values: args } = parseArgs({ options: { rate: { type: 'string' }, seconds: { type: 'string', default: '5' }, ports: { type: 'string' }, flows: { type: 'string', default: '30' } } });
const rate = Number(args.rate);
const ports = String(args.ports).split(',').map(Number);
const perDatagram = Number(args.flows);
const exportSecs = Math.floor(Date.now() / 1000);
const TEMPLATE = { kind: 'template' as const, templates: [{ id: 256, fields: V4_FIELDS }] };
const N = 256;
const data = Array.from({ length: N }, (_, i) => ({ flows: makeFlows(perDatagram, i) }));
const socket = createSocket('udp4');
let sent = 0;
const total = Math.round(rate * Number(args.seconds));
const t0 = performance.now();
const templated = ipfixDatagram({ seq: 0, domain: 1, exportSecs }, [TEMPLATE, dataSet(256, V4_FIELDS, data[0]!.flows)]);
const bases = data.map((d) => ipfixDatagram({ seq: 0, domain: 1, exportSecs }, [dataSet(256, V4_FIELDS, d.flows)]));
/** datagram i: a copy of a prebuilt one with its sequence number (data records before it) set */
const datagram = (i: number): Buffer => {
  const d = Buffer.from(i % 500 === 0 ? templated : bases[i % N]!);
  d.writeUInt32BE((i * perDatagram) >>> 0, 8);
  return d;
};
const send = (d: Uint8Array, port: number): Promise<void> => new Promise((resolve) => socket.send(d, port, '127.0.0.1', () => resolve()));
while (sent < total) {
  const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
  const jobs: Promise<void>[] = [];
  for (; sent < due; sent++) {
    const d = datagram(sent);
    for (const p of ports) jobs.push(send(d, p));
  }
  await Promise.all(jobs);
  await new Promise((r) => setTimeout(r, 1));
}
process.stdout.write(`${JSON.stringify({ sent, seconds: (performance.now() - t0) / 1000 })}\n`);
socket.close();
