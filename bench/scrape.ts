// GET /metrics from inside the probe namespace, streamed to a file. At 10 000 targets the exposition
// is tens of MB (per-target histograms), more than the lab's in-memory fetch helper keeps, so the
// bench writes the body to the lab's temp dir and keeps only the few families it sums.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseExposition, type Lab, type Sample, type WireprobeHandle } from '../test/lab/index.js';

const SCRIPT = `
const fs = require('node:fs');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const [url, file, ms] = process.argv.slice(1);
(async () => {
  const r = await fetch(url, { signal: AbortSignal.timeout(Number(ms)) });
  if (r.body) await pipeline(Readable.fromWeb(r.body), fs.createWriteStream(file));
  process.stdout.write(String(r.status));
})().catch((e) => {
  const c = e && e.cause;
  process.stderr.write(String((c && (c.code || c.message)) || (e && e.message) || e));
  process.exit(2);
});
`;

let count = 0;

export interface Scrape {
  readonly samples: Sample[];
  readonly bytes: number;
  /** performance.now() halfway through the request. */
  readonly midMs: number;
}

/** Families the bench sums: everything else (per-target RTT, histograms) is dropped before parsing. */
const KEEP =
  /^((icmp|tcpsyn|udp_unreachable)_(sent|loss|indeterminate|send_errors|icmp_errors)_total|tcpsyn_(match_ack_fail|port_mismatch)_count|udp_unreachable_port_mismatch_count|wireprobe_[a-z_]+|process_[a-z_]+|nodejs_[a-z_]+)[{ ]/;

export async function scrapeToFile(lab: Lab, wp: WireprobeHandle, timeoutMs = 20_000): Promise<Scrape> {
  const file = join(lab.tmpDir, `scrape-${++count}.prom`);
  const t0 = performance.now();
  const r = await lab.exec('probe', [process.execPath, '-e', SCRIPT, `${wp.baseUrl}/metrics`, file, String(timeoutMs)], {
    timeoutMs: timeoutMs + 5000,
  });
  const midMs = (t0 + performance.now()) / 2;
  try {
    if (r.code !== 0 || r.stdout.trim() !== '200') {
      throw new Error(`GET /metrics: exit ${r.code}, status ${r.stdout.trim() || '—'}: ${r.stderr.trim().slice(0, 300)}`);
    }
    const body = readFileSync(file);
    const kept = body
      .toString('utf8')
      .split('\n')
      .filter((l) => KEEP.test(l));
    return { samples: parseExposition(kept.join('\n')), bytes: body.length, midMs };
  } finally {
    rmSync(file, { force: true });
  }
}
