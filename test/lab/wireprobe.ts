// Runs the compiled wireprobe (dist/src/main.js) inside the lab's probe namespace, as a black box.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseExposition, type Sample } from './exposition.js';
import type { FetchResult, Lab, LabProcess } from './lab.js';
import { waitFor } from './wait-for.js';

/** Repository root: this file is compiled to <repo>/dist/test/lab/wireprobe.js. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const WIREPROBE_MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');

export interface WireprobeOptions {
  /** Bound for GET /-/ready to return 200; default 20 000 ms. */
  readyTimeoutMs?: number;
  /** Extra CLI arguments after `run --config <file>`. */
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** the entry point to run (another build's dist/src/main.js); default this build's */
  main?: string;
}

export interface WireprobeHandle {
  readonly process: LabProcess;
  readonly port: number;
  readonly baseUrl: string;
  readonly configFile: string;
  fetch(path: string): Promise<FetchResult>;
  /** GET /metrics; throws unless 200. */
  scrapeText(): Promise<string>;
  scrape(): Promise<Sample[]>;
  /**
   * Scrapes until `predicate` holds (bounded); returns the satisfying scrape. On timeout the error
   * includes the last scrape's relevant lines and the process logs.
   */
  waitForScrape(predicate: (samples: Sample[]) => boolean, opts: { timeoutMs: number; what: string; intervalMs?: number }): Promise<Sample[]>;
  /** stdout + stderr so far. */
  logs(): string;
  /** SIGTERM, wait up to 10 s, then SIGKILL (by PID); resolves with the exit code. */
  stop(): Promise<number>;
}

let configCount = 0;

function listenFromConfig(configYaml: string): { host: string; port: number } {
  const doc = parse(configYaml) as { global?: { prometheus_port?: unknown; prometheus_address?: unknown } } | null;
  const port = doc?.global?.prometheus_port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error('startWireprobe: the config must set global.prometheus_port to a valid port');
  }
  const addr = doc?.global?.prometheus_address;
  const host = typeof addr !== 'string' || addr === '0.0.0.0' || addr === '' ? '127.0.0.1' : addr === '::' ? '::1' : addr;
  return { host, port };
}

export async function startWireprobe(lab: Lab, configYaml: string, opts: WireprobeOptions = {}): Promise<WireprobeHandle> {
  const main = opts.main ?? WIREPROBE_MAIN;
  if (!existsSync(main)) {
    throw new Error(`wireprobe is not built: ${main} is missing (run: npx tsc -p .)`);
  }
  const { host, port } = listenFromConfig(configYaml);
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const configFile = join(lab.tmpDir, `wireprobe-${++configCount}.yaml`);
  writeFileSync(configFile, configYaml);

  const proc = lab.spawn(
    'probe',
    [process.execPath, main, 'run', '--config', configFile, ...(opts.extraArgs ?? [])],
    opts.env === undefined ? {} : { env: opts.env },
  );
  const logs = (): string => `${proc.stdout}${proc.stderr}`;
  const fetchPath = (path: string): Promise<FetchResult> => lab.fetchText(`${baseUrl}${path}`, { timeoutMs: 10_000 });

  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== undefined) {
          throw new Error(`wireprobe exited with ${proc.exitCode} before it was ready`);
        }
        const r = await fetchPath('/-/ready');
        return r.status === 200;
      },
      {
        timeoutMs: opts.readyTimeoutMs ?? 20_000,
        intervalMs: 200,
        what: `wireprobe ready (GET ${baseUrl}/-/ready = 200)`,
        describe: () => `wireprobe logs:\n${logs()}`,
      },
    );
  } catch (e) {
    await proc.stop('SIGTERM', 5000);
    throw e;
  }

  const scrapeText = async (): Promise<string> => {
    const r = await fetchPath('/metrics');
    if (r.status !== 200) throw new Error(`GET /metrics returned ${r.status}: ${r.body.slice(0, 500)}`);
    return r.body;
  };
  const scrape = async (): Promise<Sample[]> => parseExposition(await scrapeText());

  const waitForScrape = async (
    predicate: (samples: Sample[]) => boolean,
    o: { timeoutMs: number; what: string; intervalMs?: number },
  ): Promise<Sample[]> => {
    let last: Sample[] = [];
    return waitFor(
      async () => {
        if (proc.exitCode !== undefined) throw new Error(`wireprobe exited with ${proc.exitCode}`);
        last = await scrape();
        return predicate(last) ? last : undefined;
      },
      {
        timeoutMs: o.timeoutMs,
        intervalMs: o.intervalMs ?? 500,
        what: o.what,
        describe: () => {
          const shown = last
            .filter((s) => /^(icmp_(sent|loss)_total|icmp_loss_ratio|app_host_resolution_status)$/.test(s.name))
            .slice(0, 40)
            .map((s) => `  ${s.name}${JSON.stringify(s.labels)} ${s.value}`)
            .join('\n');
          return `last good scrape (${last.length} samples; first 40 icmp sent/loss/ratio and resolution samples):\n${shown}\nwireprobe logs (tail):\n${logs().slice(-4000)}`;
        },
      },
    );
  };

  return {
    process: proc,
    port,
    baseUrl,
    configFile,
    fetch: fetchPath,
    scrapeText,
    scrape,
    waitForScrape,
    logs,
    stop: () => proc.stop('SIGTERM', 10_000),
  };
}
