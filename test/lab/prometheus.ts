// Runs a real Prometheus (Debian package `prometheus`) inside the lab's probe namespace: it scrapes
// only targets in that namespace (usually wireprobe on 127.0.0.1) and keeps its TSDB in the lab's
// temp dir. Queries go through the HTTP API from inside the namespace (lab.fetchText).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { FetchResult, Lab, LabProcess } from './lab.js';
import type { ToolRequirement } from './require-tools.js';
import { waitFor } from './wait-for.js';

export const PROMETHEUS: ToolRequirement = { bin: 'prometheus', pkg: 'prometheus' };

export interface PrometheusOptions {
  /** `host:port` scrape targets inside the probe namespace (job `wireprobe`, path /metrics). */
  scrapeTargets: readonly string[];
  /** Absolute paths of rule files to load (rule_files). */
  ruleFiles?: readonly string[];
  /** Global scrape interval in seconds; default 1. */
  scrapeIntervalS?: number;
  /** Global rule evaluation interval in seconds; default 1. */
  evaluationIntervalS?: number;
  /** Listen port on 127.0.0.1 in the probe namespace; default: a free port picked there. */
  port?: number;
  /** Bound for GET /-/ready to return 200; default 30 000 ms. */
  readyTimeoutMs?: number;
  /** Extra command-line flags. */
  extraArgs?: readonly string[];
}

/** One instant-vector or matrix element as returned by /api/v1/query(_range). */
export interface PromSeries {
  readonly metric: Record<string, string>;
  /** Instant vector: [unix seconds, "value"]. */
  readonly value?: [number, string];
  /** Range vector / query_range: [[unix seconds, "value"], ...]. */
  readonly values?: Array<[number, string]>;
}

export interface PromQueryResult {
  readonly resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  /** Series for vector/matrix; [time, "value"] for scalar/string. */
  readonly result: PromSeries[] | [number, string];
}

/** An alert from /api/v1/alerts (pending or firing). */
export interface PromAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly activeAt: string;
  readonly value: string;
}

export interface PromTarget {
  readonly labels: Record<string, string>;
  readonly scrapeUrl: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
}

export interface PrometheusHandle {
  readonly process: LabProcess;
  readonly port: number;
  /** http://127.0.0.1:<port> (reachable from inside the probe namespace only). */
  readonly url: string;
  readonly configFile: string;
  readonly dataDir: string;
  /**
   * GET /api/v1/<path>?<params>; resolves with the JSON envelope's `data`, throws with Prometheus'
   * errorType and error (e.g. a PromQL parse error) when status is not "success".
   */
  api<T>(path: string, params?: Record<string, string>): Promise<T>;
  /** Instant query at `time` (unix seconds; default now). */
  query(expr: string, time?: number): Promise<PromQueryResult>;
  /** Range query; start/end in unix seconds, step in seconds. */
  queryRange(expr: string, start: number, end: number, stepS: number): Promise<PromQueryResult>;
  /** Pending and firing alerts. */
  alerts(): Promise<PromAlert[]>;
  /** Active scrape targets. */
  targets(): Promise<PromTarget[]>;
  /** Waits until every configured target has been scraped successfully (health "up"). */
  waitForTargetsUp(timeoutMs: number): Promise<void>;
  /** stdout + stderr so far. */
  logs(): string;
  /** SIGTERM by PID, SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number>;
}

interface Envelope<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

let instances = 0;

/** Asks the kernel for a free TCP port on 127.0.0.1 inside the probe namespace. */
async function freePort(lab: Lab): Promise<number> {
  const script = "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();});";
  const r = await lab.exec('probe', [process.execPath, '-e', script], { timeoutMs: 10_000 });
  const port = Number(r.stdout.trim());
  if (r.code !== 0 || !Number.isInteger(port) || port <= 0) {
    throw new Error(`prometheus: could not pick a free port in ${lab.probeNs}: ${r.stderr.trim()}`);
  }
  return port;
}

export function prometheusConfig(o: PrometheusOptions): string {
  const interval = `${o.scrapeIntervalS ?? 1}s`;
  return stringify({
    global: {
      scrape_interval: interval,
      scrape_timeout: interval,
      evaluation_interval: `${o.evaluationIntervalS ?? 1}s`,
    },
    rule_files: [...(o.ruleFiles ?? [])],
    scrape_configs: [{ job_name: 'wireprobe', static_configs: [{ targets: [...o.scrapeTargets] }] }],
  });
}

function parseEnvelope<T>(what: string, r: FetchResult): T {
  let env: Envelope<T>;
  try {
    env = JSON.parse(r.body) as Envelope<T>;
  } catch {
    throw new Error(`prometheus ${what}: HTTP ${r.status}, not JSON: ${r.body.slice(0, 500)}`);
  }
  if (env.status !== 'success' || env.data === undefined) {
    throw new Error(`prometheus ${what}: ${env.errorType ?? `HTTP ${r.status}`}: ${env.error ?? r.body.slice(0, 500)}`);
  }
  return env.data;
}

export async function startPrometheus(lab: Lab, o: PrometheusOptions): Promise<PrometheusHandle> {
  if (o.scrapeTargets.length === 0) throw new Error('startPrometheus: scrapeTargets is empty');
  const n = ++instances;
  const dir = join(lab.tmpDir, `prometheus-${n}`);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(o));
  const port = o.port ?? (await freePort(lab));
  const url = `http://127.0.0.1:${port}`;

  const proc = lab.spawn('probe', [
    'prometheus',
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1h',
    ...(o.extraArgs ?? []),
  ]);
  const logs = (): string => `${proc.stdout}${proc.stderr}`;
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== undefined) throw new Error(`prometheus exited with ${proc.exitCode} before it was ready`);
        return (await lab.fetchText(`${url}/-/ready`, { timeoutMs: 5000 })).status === 200;
      },
      {
        timeoutMs: o.readyTimeoutMs ?? 30_000,
        intervalMs: 250,
        what: `prometheus ready (GET ${url}/-/ready = 200)`,
        describe: () => `prometheus logs (tail):\n${logs().slice(-4000)}`,
      },
    );
  } catch (e) {
    await proc.stop('SIGTERM', 5000);
    throw e;
  }

  const api = async <T>(path: string, params: Record<string, string> = {}): Promise<T> => {
    const qs = new URLSearchParams(params).toString();
    const r = await lab.fetchText(`${url}/api/v1/${path}${qs === '' ? '' : `?${qs}`}`, { timeoutMs: 10_000 });
    return parseEnvelope<T>(`${path}${params['query'] === undefined ? '' : ` (${params['query']})`}`, r);
  };
  const targets = async (): Promise<PromTarget[]> =>
    (await api<{ activeTargets: PromTarget[] }>('targets', { state: 'active' })).activeTargets;

  return {
    process: proc,
    port,
    url,
    configFile,
    dataDir,
    api,
    query: (expr, time) => api<PromQueryResult>('query', time === undefined ? { query: expr } : { query: expr, time: String(time) }),
    queryRange: (expr, start, end, stepS) =>
      api<PromQueryResult>('query_range', { query: expr, start: String(start), end: String(end), step: String(stepS) }),
    alerts: async () => (await api<{ alerts: PromAlert[] }>('alerts')).alerts,
    targets,
    waitForTargetsUp: async (timeoutMs) => {
      let last: PromTarget[] = [];
      await waitFor(
        async () => {
          last = await targets();
          return last.length === o.scrapeTargets.length && last.every((t) => t.health === 'up');
        },
        {
          timeoutMs,
          intervalMs: 500,
          what: 'every prometheus target up',
          describe: () => `targets: ${JSON.stringify(last.map((t) => ({ url: t.scrapeUrl, health: t.health, error: t.lastError })))}`,
        },
      );
    },
    logs,
    stop: () => proc.stop('SIGTERM', 10_000),
  };
}
