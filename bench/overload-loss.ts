// False loss under overload: wireprobe at a rate past what its capture (or the CPU) sustains, with
// CPU hogs running, against the wire truth of the same window, in one throw-away namespace lab.
//   node dist/bench/overload-loss.js [--targets 1000] [--rate 150000] [--hogs 2] [--loss 0] [--warmup 4] [--window 10]
// Prints wireprobe's settled/lost/indeterminate counts, the wire loss with its binomial 99 % interval
// and whether wireprobe's lost count is inside the 99 % band of the wire loss; exit code 1 if not.
import { readFileSync } from 'node:fs';
import { createLab, requireRoot, requireTools } from '../test/lab/index.js';
import { runOverload, type OverloadOptions } from '../test/lab/overload.js';

function arg(argv: string[], name: string, def: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: expected a number, got ${argv[i + 1]}`);
  return v;
}

async function main(): Promise<void> {
  requireRoot();
  requireTools([{ bin: 'nft', pkg: 'nftables' }, { bin: 'ip', pkg: 'iproute2' }]);
  const argv = process.argv.slice(2);
  const o: OverloadOptions = {
    targets: arg(argv, 'targets', 1000), rate: arg(argv, 'rate', 150_000), hogs: arg(argv, 'hogs', 2),
    lossPct: arg(argv, 'loss', 0), warmupS: arg(argv, 'warmup', 4), windowS: arg(argv, 'window', 10),
  };
  const lab = await createLab({ name: 'overload-loss' });
  const bound = setTimeout(() => {
    process.stderr.write('overload-loss: over its time bound, destroying the lab\n');
    void lab.destroy().finally(() => process.exit(3));
  }, (o.warmupS + o.windowS + 120) * 1000);
  try {
    const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const r = await runOverload(lab, o);
    const pct = (x: number): string => `${(100 * x).toFixed(4)} %`;
    process.stdout.write(
      [
        `targets ${o.targets}, ${o.rate} probes/s requested, ${o.hogs} CPU hogs, lab loss ${o.lossPct} %, window ${o.windowS} s, load ${load0}`,
        `wire: ${r.wireRequests} requests (${(r.wireRequests / o.windowS).toFixed(0)}/s), ${r.wireReplies} answers at the probe interface: loss ${pct(r.wireLoss)} (99 % interval ${pct(r.lo)} – ${pct(r.hi)})`,
        `wireprobe: ${r.settled} settled, ${r.lost} lost (${pct(r.reportedLoss)}; 99 % band of the wire loss ${r.band[0].toFixed(1)} – ${r.band[1].toFixed(1)}), ${r.indeterminate} indeterminate`,
        `  capture: ${r.captureReceived} frames offered, ${r.captureDrops} dropped; capture behind ${r.captureBehind}, answers after a loss verdict ${r.answeredAfterLoss}, late ${r.late}, unmatched frames ${r.unmatched}`,
        `kernel: softnet backlog drops ${r.softnetDropped}, squeezes ${r.softnetSqueezed}, probe veth rx drops ${r.vethRxDropped}`,
        `engine counters (Δ): ${Object.entries(r.engine).map(([k, v]) => `${k.replace(/^wireprobe_|_total$/g, '')} ${v}`).join(', ')}`,
        `reported loss inside the 99 % band of the wire loss: ${r.inside ? 'yes' : 'NO'}`,
        '',
      ].join('\n'),
    );
    process.exitCode = r.inside ? 0 : 1;
  } finally {
    clearTimeout(bound);
    await lab.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`overload-loss: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(2);
});
