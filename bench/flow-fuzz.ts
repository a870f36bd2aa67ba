// Flow decoder fuzz: 10^6 (--n) mutated NetFlow v5/v9/IPFIX datagrams through one decoder;
// prints throws (must be 0), decoded flows, counted errors and the rate. See bench/README.md.
import { parseArgs } from 'node:util';
import { fuzzFlowDecoder } from '../test/fakes/flow-fuzz.js';

const { values: args } = parseArgs({ options: { n: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '1' } } });
const n = Number(args.n);
const t0 = performance.now();
const r = fuzzFlowDecoder(n, Number(args.seed));
const s = (performance.now() - t0) / 1000;
console.log(`datagrams ${r.datagrams}  throws ${r.throws}  flows decoded ${r.flows}  errors counted ${r.errors}  ${s.toFixed(1)} s  ${Math.round(n / s)} datagrams/s`);
if (r.firstThrow !== null) console.log(`first throw: ${r.firstThrow}`);
process.exitCode = r.throws === 0 ? 0 : 1;
