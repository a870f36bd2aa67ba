// Many PromQL instant queries in one go: a single Node process inside the lab's probe namespace
// (where Prometheus listens on 127.0.0.1) POSTs them one after the other to /api/v1/query and prints
// the outcomes as JSON. One process instead of one per query keeps hundreds of queries at seconds.
import type { Lab } from '../lab/index.js';

export interface QueryOutcome {
  readonly expr: string;
  /** Prometheus' errorType and error (parse or execution error, HTTP failure); null on success */
  readonly error: string | null;
  /** series of a vector or matrix; 1 for a scalar or string */
  readonly series: number;
  /** label sets of the series (vector or matrix) */
  readonly labels: readonly Record<string, string>[];
}

const SCRIPT = `
const [url, perQueryMs] = process.argv.slice(1);
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const out = [];
  for (const expr of JSON.parse(input)) {
    try {
      const r = await fetch(url + '/api/v1/query', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: expr }),
        signal: AbortSignal.timeout(Number(perQueryMs)),
      });
      const j = await r.json();
      if (j.status !== 'success') { out.push({ expr, error: j.errorType + ': ' + j.error, series: 0, labels: [] }); continue; }
      const list = Array.isArray(j.data.result) && (j.data.resultType === 'vector' || j.data.resultType === 'matrix') ? j.data.result : null;
      out.push({ expr, error: null, series: list === null ? 1 : list.length, labels: list === null ? [] : list.map((s) => s.metric) });
    } catch (e) {
      out.push({ expr, error: 'request: ' + String(e), series: 0, labels: [] });
    }
  }
  process.stdout.write(JSON.stringify(out));
});
`;

/** Runs `exprs` as instant queries against the Prometheus at `url` (inside the probe namespace). */
export async function queryBatch(lab: Lab, url: string, exprs: readonly string[], perQueryMs = 10_000): Promise<QueryOutcome[]> {
  if (exprs.length === 0) return [];
  const r = await lab.exec('probe', [process.execPath, '-e', SCRIPT, url, String(perQueryMs)], {
    input: JSON.stringify(exprs),
    timeoutMs: exprs.length * perQueryMs + 10_000,
  });
  if (r.code !== 0) throw new Error(`queryBatch: exit ${r.code}: ${r.stderr.trim()}`);
  const out = JSON.parse(r.stdout) as QueryOutcome[];
  if (out.length !== exprs.length) throw new Error(`queryBatch: ${out.length} outcomes for ${exprs.length} queries`);
  return out;
}
