/**
 * The hostile-client run: a real wireprobe (API on, read and write tokens, state file, at most
 * 5 API targets, its own target probed every 2 s) in a throw-away lab takes 10 000 seeded hostile requests
 * (test/integration/hostile-requests.ts) from 16 concurrent clients inside the probe namespace.
 * Reports the status counts and fails (exit 1) on any 5xx, any error that is not the JSON error
 * shape, a crash, an error line in the log, or a target that stopped being probed. Meanwhile the
 * state file is read every 20 ms and parsed as wireprobe loads it (parseState): it must always be
 * absent (before the first write) or valid with no rejected record, and never hold more than
 * max_targets records.
 *
 *   node dist/bench/api-hostile.js [--requests 10000] [--seed 21] [--concurrency 16]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseState } from '../src/api/state-file.js';
import { parseArgs } from 'node:util';
import { createLab, find, netprobifyConfig, requireRoot, startWireprobe } from '../test/lab/index.js';
import { REPO_ROOT } from '../test/lab/wireprobe.js';

const READ = 'bench-hostile-read-token-0123456789';
const WRITE = 'bench-hostile-write-token-0123456789';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '10000' }, seed: { type: 'string', default: '21' }, concurrency: { type: 'string', default: '16' } },
});

const sentOf = (s: Awaited<ReturnType<Awaited<ReturnType<typeof startWireprobe>>['scrape']>>): number =>
  find(s, 'icmp_sent_total', { destination: 'own', group: 'g1' })?.value ?? -1;

async function main(): Promise<number> {
  requireRoot();
  const lab = await createLab({ name: 'api-hostile' });
  try {
    const state = join(lab.tmpDir, 'api-state.json');
    const yaml = `${netprobifyConfig({ global: { interval: 2 }, targets: { own: { type: 'ICMPping', destination: '198.19.16.9', timeout: 0.5 } } })}` +
      `api:\n  max_targets: 5\n  tokens: [{token: ${READ}, scope: read}, {token: ${WRITE}, scope: write}]\n  state_file: ${JSON.stringify(state)}\n`;
    const wp = await startWireprobe(lab, yaml, { readyTimeoutMs: 90_000 });
    const before = sentOf(await wp.scrape());
    const client = join(REPO_ROOT, 'dist', 'bench', 'api-hostile-client.js');
    const watch = { reads: 0, valid: 0, absent: 0, invalid: [] as string[], maxRecords: 0 };
    const watcher = setInterval(() => {
      watch.reads++;
      let text: string;
      try {
        text = readFileSync(state, 'utf8');
      } catch {
        watch.absent++;
        return;
      }
      try {
        const parsed = parseState(text);
        if (parsed.rejected.length > 0) throw new Error(`${parsed.rejected.length} rejected records: ${parsed.rejected[0]?.reason ?? ''}`);
        watch.valid++;
        watch.maxRecords = Math.max(watch.maxRecords, parsed.records.length);
      } catch (e) {
        if (watch.invalid.length < 5) watch.invalid.push(e instanceof Error ? e.message : String(e));
        else watch.invalid.push('…');
      }
    }, 20);
    const r = await lab.exec('probe', [process.execPath, client, wp.baseUrl, values.requests, values.seed, READ, WRITE, values.concurrency], { timeoutMs: 30 * 60_000 });
    clearInterval(watcher);
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    if (!last.startsWith('{')) throw new Error(`the client failed (exit ${r.code}): ${r.stderr.slice(-2000)}`);
    const report = JSON.parse(last) as { counts: Record<string, number>; problems: string[]; problemCount: number; elapsedMs: number };
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const alive = wp.process.exitCode === undefined;
    const after = alive ? sentOf(await wp.scrape()) : -1;
    const errorLines = wp.logs().split('\n').filter((l) => l.includes('level=error'));
    const fiveXx = Object.entries(report.counts).filter(([s]) => s.startsWith('5')).reduce((n, [, c]) => n + c, 0);
    const out = {
      requests: Number(values.requests),
      seed: Number(values.seed),
      concurrency: Number(values.concurrency),
      elapsedS: report.elapsedMs / 1000,
      statusCounts: report.counts,
      fiveXx,
      problems: report.problemCount,
      crashed: !alive,
      errorLogLines: errorLines.length,
      ownSentBefore: before,
      ownSentAfter: after,
      stateFile: { reads: watch.reads, valid: watch.valid, absent: watch.absent, invalid: watch.invalid.length, maxRecords: watch.maxRecords },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    for (const p of report.problems) process.stdout.write(`problem: ${p}\n`);
    for (const l of errorLines.slice(0, 20)) process.stdout.write(`log: ${l}\n`);
    for (const l of watch.invalid.slice(0, 6)) process.stdout.write(`invalid state file: ${l}\n`);
    const code = alive ? await wp.stop() : wp.process.exitCode;
    const ok = fiveXx === 0 && report.problemCount === 0 && alive && code === 0 && errorLines.length === 0 && after > before &&
      watch.invalid.length === 0 && watch.valid > 0 && watch.maxRecords <= 5;
    process.stdout.write(`${ok ? 'PASS' : 'FAIL'} (wireprobe exit code ${code})\n`);
    return ok ? 0 : 1;
  } finally {
    await lab.destroy();
  }
}

process.exitCode = await main();
