// 10^6 fuzzed frames through every frame decoder (see test/unit/packet/decoder-fuzz.ts); prints the
// throws per decoder (the figure: 0) and exits 1 if any decoder threw. Crashes end the process.
//   node dist/bench/decoder-fuzz.js [--frames 1000000] [--seed 1]
import { fuzzDecoders } from '../test/unit/packet/decoder-fuzz.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? def : Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${name}: expected a non-negative integer`);
  return v;
}

const frames = arg('frames', 1_000_000);
const seed = arg('seed', 1);
const r = fuzzDecoders(frames, seed, (done) => process.stderr.write(`decoder-fuzz: ${done} frames\n`));
const total = Object.values(r.throws).reduce((a, b) => a + b, 0);
process.stdout.write(
  `decoder-fuzz: ${r.frames} frames (seed ${seed}) in ${r.seconds.toFixed(1)} s: ${total} throws, 0 crashes\n` +
    `  accepted: ${Object.entries(r.accepted).map(([k, v]) => `${k} ${v}`).join(', ')}\n` +
    `  throws:   ${Object.entries(r.throws).map(([k, v]) => `${k} ${v}`).join(', ')}${r.firstThrow === null ? '' : `\n  first: ${r.firstThrow}`}\n`,
);
process.exitCode = total === 0 ? 0 : 1;
