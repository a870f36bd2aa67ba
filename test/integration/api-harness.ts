/**
 * Test harness of the REST target API: a TargetSources stand-in over a real parsed config
 * (file targets, API and inventory origins merged as the contract says: file first, then the
 * API, then inventories in name order), and the API served on 127.0.0.1 port 0.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.js';
import type { Config, TargetConfig } from '../../src/config/types.js';
import { createApi, type Api } from '../../src/api/index.js';
import { createHttpApp, httpLimits, listen } from '../../src/http/server.js';
import { FastRegistry } from '../../src/metrics/fast.js';
import type { ApiSources, RunningTarget } from '../../src/api/types.js';
import type { TargetOrigin } from '../../src/targets/sources.js';
import { FakeClock } from '../fakes/clock.js';
import { memoryLogger } from '../fakes/logger.js';

export const READ_TOKEN = 'read-token-0123456789abcdef';
export const WRITE_TOKEN = 'write-token-0123456789abcdef';

export function configText(api: string): string {
  return [
    'global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}',
    'groups:',
    '  g1: {}',
    '  g2: {permit_target_auto_register: false}',
    'targets:',
    '  filet: {type: ICMPping, destination: 198.18.0.1}',
    api,
  ].join('\n');
}

export const TOKENS_API = [
  'api:',
  '  tokens:',
  `    - {token: ${READ_TOKEN}, scope: read}`,
  `    - {token: ${WRITE_TOKEN}, scope: write}`,
].join('\n');

export class FakeSources implements ApiSources {
  #config: Config;
  readonly #listeners = new Set<(c: Config) => void>();
  readonly #origins = new Map<Exclude<TargetOrigin, 'file'>, readonly TargetConfig[]>();
  /** every replace() call, in order */
  readonly calls: { origin: string; names: string[] }[] = [];

  constructor(config: Config) {
    this.#config = config;
  }

  config(): Config {
    return this.#config;
  }

  ownerOf(name: string): TargetOrigin | undefined {
    for (const rt of this.running()) if (rt.target.name === name) return rt.origin;
    return undefined;
  }

  replace(origin: Exclude<TargetOrigin, 'file'>, targets: readonly TargetConfig[]): void {
    this.#origins.set(origin, [...targets]);
    this.calls.push({ origin, names: targets.map((t) => t.name) });
  }

  onConfig(listener: (config: Config) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  *running(): Iterable<RunningTarget> {
    const seen = new Set<string>();
    const inventories = [...this.#origins.keys()].filter((o) => o !== 'api').sort();
    const from = (origin: TargetOrigin, targets: Iterable<TargetConfig>): RunningTarget[] =>
      [...targets].filter((t) => !seen.has(t.name) && seen.add(t.name)).map((target) => ({ origin, target }));
    yield* from('file', Object.values(this.#config.targets));
    yield* from('api', this.#origins.get('api') ?? []);
    for (const o of inventories) yield* from(o, this.#origins.get(o) ?? []);
  }

  /** names handed to the prober for `origin` by the last replace() */
  names(origin: Exclude<TargetOrigin, 'file'>): string[] {
    return (this.#origins.get(origin) ?? []).map((t) => t.name).sort();
  }

  reload(config: Config): void {
    this.#config = config;
    for (const l of this.#listeners) l(config);
  }
}

export interface Harness {
  readonly url: string;
  readonly api: Api;
  readonly sources: FakeSources;
  readonly registry: Registry;
  readonly clock: FakeClock;
  readonly lines: string[];
  close(): Promise<void>;
}

/**
 * The API in the real HTTP app (createHttpApp, its limits from the config's `global`), with
 * `reload` as POST /-/reload when given.
 */
export async function startApi(
  text: string,
  opts: { clock?: FakeClock; start?: boolean; reload?: () => Promise<{ ok: boolean; message: string }> } = {},
): Promise<Harness> {
  const { config } = parseConfig(text, 'api-test.yaml');
  if (config.api === undefined) throw new Error('the test config has no api section');
  const sources = new FakeSources(config);
  const clock = opts.clock ?? new FakeClock();
  const registry = new Registry();
  const { log, lines } = memoryLogger();
  const api = createApi({ sources, config: config.api, clock, log, registry });
  if (opts.start !== false) await api.start();
  const app = createHttpApp({
    registry,
    fast: new FastRegistry(),
    ready: () => true,
    api: api.router,
    tokens: () => sources.config().api?.tokens ?? [],
    log,
    ...(opts.reload === undefined ? {} : { reload: opts.reload }),
  });
  const server: Server = await listen(app, '127.0.0.1', 0, httpLimits(config.global));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    api,
    sources,
    registry,
    clock,
    lines,
    async close() {
      await api.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/** A request with an optional bearer token and JSON body (a string body is sent as is). */
export async function call(
  h: Harness,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; type?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] = opts.type ?? 'application/json';
  }
  const res = await fetch(`${h.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, headers: res.headers, body: isJson && text !== '' ? (JSON.parse(text) as unknown) : text };
}

/** The `error.code` of a reply, or undefined. */
export function codeOf(r: Reply): string | undefined {
  const b = r.body as { error?: { code?: string } } | null;
  return typeof b === 'object' && b !== null ? b.error?.code : undefined;
}
