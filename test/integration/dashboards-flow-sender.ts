// Feeds the flow collector of the dashboards lab (dashboards-lab.ts) once a second for at most
// `seconds`: an IPFIX template and data (interfaces, ports, protocols), a v9 template and data, a
// v5 datagram whose sequence skips 3 flows (lost exports), IPFIX data that comes before its
// template (held, decoded when the template follows, then the template is withdrawn), a v9 data
// set whose template never comes (held, then evicted by age) and 8 bytes of garbage (a decode error). Run inside the
// probe namespace: `node dashboards-flow-sender.js PORT SECONDS`.
import { createSocket } from 'node:dgram';
import { dataSet, ipfixDatagram, makeFlows, v5Datagram, v9Datagram, V4_FIELDS } from '../fakes/flow-builder.js';

const port = Number(process.argv[2]);
const seconds = Number(process.argv[3]);
if (!Number.isInteger(port) || !(seconds > 0 && seconds <= 900)) throw new Error('usage: dashboards-flow-sender.js PORT SECONDS (at most 900)');

const socket = createSocket('udp4');
const send = (d: Uint8Array): Promise<void> => new Promise((resolve) => socket.send(d, port, '127.0.0.1', () => resolve()));
const TEMPLATE = { kind: 'template' as const, templates: [{ id: 256, fields: V4_FIELDS }] };
const started = Date.now();
let ipfixSeq = 0;
let v5Seq = 0;
for (let i = 0; Date.now() - started < seconds * 1000; i++) {
  const now = Math.floor(Date.now() / 1000);
  const uptimeMs = Date.now() - started;
  const flows = makeFlows(20, i % 5);
  await send(ipfixDatagram({ seq: ipfixSeq, domain: 1, exportSecs: now }, [TEMPLATE, dataSet(256, V4_FIELDS, flows)]));
  ipfixSeq += flows.length;
  await send(v9Datagram({ seq: i, sourceId: 7, uptimeMs, unixSecs: now }, [TEMPLATE, dataSet(256, V4_FIELDS, makeFlows(5, 10 + (i % 3)))]));
  const v5 = makeFlows(4, 20);
  await send(v5Datagram({ seq: v5Seq, uptimeMs, unixSecs: now }, v5));
  v5Seq += v5.length + 3;
  const early = makeFlows(2, 40);
  await send(ipfixDatagram({ seq: 0, domain: 2, exportSecs: now }, [dataSet(300, V4_FIELDS, early)]));
  await send(ipfixDatagram({ seq: 0, domain: 2, exportSecs: now }, [{ kind: 'template', templates: [{ id: 300, fields: V4_FIELDS }] }]));
  await send(ipfixDatagram({ seq: 0, domain: 2, exportSecs: now }, [{ kind: 'withdraw', ids: [300] }]));
  await send(v9Datagram({ seq: i, sourceId: 8, uptimeMs, unixSecs: now }, [dataSet(999, V4_FIELDS, makeFlows(1, 30))]));
  await send(Uint8Array.from([0, 42, 0, 1, 2, 3, 4, 5]));
  await new Promise((r) => setTimeout(r, 1000));
}
socket.close();
