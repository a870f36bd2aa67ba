// GET /metrics from inside the probe namespace, streamed to a file. At 10 000 targets the exposition
// is tens of MB (per-target histograms), more than the lab's in-memory fetch helper keeps, so the
// bench writes the body to the lab's temp dir and keeps only the few families it sums.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseExposition, type Lab, type Sample, type WireprobeHandle } from '../test/lab/index.js';

const SCRIPT = `
const fs = require('node:fs');
const http = require('node:http');
const [url, file, ms, enc] = process.argv.slice(1);
const req = http.get(url, { headers: { 'accept-encoding': enc }, timeout: Number(ms) }, (res) => {
  const out = fs.createWriteStream(file);
  res.pipe(out);
  out.on('finish', () => process.stdout.write(res.statusCode + ' ' + (res.headers['content-encoding'] || 'identity')));
  res.on('error', (e) => { process.stderr.write(String(e && e.message)); process.exit(2); });
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (e) => { process.stderr.write(String((e && (e.code || e.message)) || e)); process.exit(2); });
`;

let count = 0;

export interface Scrape {
  readonly samples: Sample[];
  /** bytes of exposition text */
  readonly bytes: number;
  /** bytes of the response body (gzip-encoded when asked for) */
  readonly wireBytes: number;
  /** wall time of the request, as seen by the client process (ms, process start included) */
  readonly wallMs: number;
  /** performance.now() halfway through the request. */
  readonly midMs: number;
}

/** Families the bench sums: everything else (per-target RTT, histograms) is dropped before parsing. */
const KEEP =
  /^((icmp|tcpsyn|udp_unreachable)_(sent|loss|indeterminate|send_errors|icmp_errors)_total|tcpsyn_(match_ack_fail|port_mismatch)_count|udp_unreachable_port_mismatch_count|wireprobe_[a-z_]+|process_[a-z_]+|nodejs_[a-z_]+)[{ ]/;

/** Accept-Encoding of the bench's scrapes: gzip as Prometheus sends, or identity (plain text). */
export type ScrapeEncoding = 'gzip' | 'identity';

export async function scrapeToFile(lab: Lab, wp: WireprobeHandle, timeoutMs = 20_000, encoding: ScrapeEncoding = 'gzip'): Promise<Scrape> {
  const file = join(lab.tmpDir, `scrape-${++count}.prom`);
  const t0 = performance.now();
  const r = await lab.exec('probe', [process.execPath, '-e', SCRIPT, `${wp.baseUrl}/metrics`, file, String(timeoutMs), encoding], {
    timeoutMs: timeoutMs + 5000,
  });
  const midMs = (t0 + performance.now()) / 2;
  try {
    const [status, coding] = r.stdout.trim().split(' ');
    if (r.code !== 0 || status !== '200') {
      throw new Error(`GET /metrics: exit ${r.code}, status ${status ?? '—'}: ${r.stderr.trim().slice(0, 300)}`);
    }
    const raw = readFileSync(file);
    const body = coding === 'gzip' ? gunzipSync(raw) : raw;
    const kept = body
      .toString('utf8')
      .split('\n')
      .filter((l) => KEEP.test(l));
    return { samples: parseExposition(kept.join('\n')), bytes: body.length, wireBytes: raw.length, wallMs: performance.now() - t0, midMs };
  } finally {
    rmSync(file, { force: true });
  }
}
