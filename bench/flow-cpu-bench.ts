// Where the flow collector's CPU goes, per piece, on this thread (no sockets), in CPU time
// (process.cpuUsage, user + system, all threads; each piece over a whole job of datagrams): the decoder's
// control half per datagram (headers, set walk, record counts, queueing the sets), decoding a
// job's data sets into rows per flow (what the pool runs), and the top-talker tally per flow.
// Datagrams: IPFIX, 30 flows each, from test/fakes/flow-builder.ts, --variants distinct ones
// (seeds; makeFlows gives each flow of a seed its own source and conversation). --top MODULE
// (a built top.js, e.g. main's) tallies with that TopTalkers as well, for a before/after.
// Usage: node dist/bench/flow-cpu-bench.js [--datagrams 200000] [--variants 2000] [--top path] [--recycle on|off]
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { TopTalkers } from '../src/flows/top.js';
import { decodeDataJob, type DataJobResult } from '../src/packet/flow/data-job.js';
import { tallySmallKeys, type SmallKeyTally } from '../src/packet/flow/key-tally.js';
import { FlowDecoder } from '../src/packet/flow/decoder.js';
import type { FlowBatch } from '../src/packet/flow/types.js';
import { dataSet, ipfixDatagram, makeFlows, V4_FIELDS } from '../test/fakes/flow-builder.js';

const { values: args } = parseArgs({ options: { datagrams: { type: 'string', default: '200000' }, variants: { type: 'string', default: '2000' }, top: { type: 'string' }, recycle: { type: 'string', default: 'on' } } });
const n = Number(args.datagrams);
const variants = Number(args.variants);
const PER = 30;
const JOB = 256;
const exportSecs = Math.floor(Date.now() / 1000);
const tpl = ipfixDatagram({ seq: 0, domain: 1, exportSecs }, [{ kind: 'template', templates: [{ id: 256, fields: V4_FIELDS }] }]);
const data = Array.from({ length: variants }, (_, i) => ipfixDatagram({ seq: 0, domain: 1, exportSecs }, [dataSet(256, V4_FIELDS, makeFlows(PER, i))]));
const seq = (d: Uint8Array, s: number): Uint8Array => {
  new DataView(d.buffer, d.byteOffset).setUint32(8, s >>> 0);
  return d;
};
const decoder = new FlowDecoder({ maxExporters: 16, maxTemplates: 64, earlyMaxDatagrams: 100, earlyMaxAgeMs: 60_000 });
decoder.decode(tpl, '198.18.0.1', Date.now());
/** CPU seconds (user + system, this process, all threads) that `f` takes */
const cpu = (f: () => void): number => {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};
// job by job as the collector goes, each piece timed in CPU over a whole job; the batch's buffer
// is then decoded into again (as flows/service.ts recycles them) unless --recycle off
const opts = { n: 10, maxSeries: 1000, maxKeys: 200_000 };
interface Tally { add(b: FlowBatch, k?: SmallKeyTally): void; roll(): void }
const other = args.top === undefined ? null : new ((await import(pathToFileURL(args.top).href)) as { TopTalkers: new (o: typeof opts) => Tally }).TopTalkers(opts);
const top = new TopTalkers(opts);
let controlS = 0;
let dataS = 0;
let keysS = 0;
let topS = 0;
let otherS = 0;
let spare: ArrayBuffer | undefined;
for (let i = 0; i < n;) {
  controlS += cpu(() => {
    for (; i < n && decoder.queue.datagrams < JOB; i++) decoder.decode(seq(data[i % variants]!, i * PER), '198.18.0.1', Date.now());
  });
  const job = decoder.takeJob()!;
  let r: DataJobResult | undefined;
  dataS += cpu(() => {
    r = decodeDataJob(spare === undefined ? job : { ...job, spare });
  });
  const { batch } = r!;
  keysS += cpu(() => void tallySmallKeys(batch));
  decoder.applyTallies(job.exporters, r!.tallies);
  topS += cpu(() => top.add(batch, r!.keys));
  if (other !== null) otherS += cpu(() => other.add(batch));
  if (args.recycle !== 'off') spare = batch.bytes.buffer as ArrayBuffer;
}
topS += cpu(() => top.roll());
if (other !== null) otherS += cpu(() => other.roll());
const flows = n * PER;
const perFlow = (sec: number): string => `${(sec / flows * 1e9).toFixed(0)} ns/flow`;
console.log(`${n} IPFIX datagrams x ${PER} flows, ${variants} distinct datagrams, jobs of ${JOB} datagrams`);
console.log(`CPU (user + system) per piece:`);
console.log(`control half (main thread): ${(controlS / n * 1e6).toFixed(2)} us/datagram = ${perFlow(controlS)}`);
console.log(`data sets -> rows (pool):   ${perFlow(dataS - keysS)}, the batch's small top-N keys ${perFlow(keysS)} more`);
console.log(`top-N tally + roll (main thread, small keys from the pool): ${perFlow(topS)}`);
if (other !== null) console.log(`top-N tally + roll, every key per flow (${args.top}): ${perFlow(otherS)}`);
