/**
 * RDAP (RFC 7480-7484): the server of a domain, address or AS number is found in the IANA
 * bootstrap registries (RFC 9224: dns.json, ipv4.json, ipv6.json, asn.json under a configurable
 * base URL, kept for a TTL), then asked `domain/<name>`, `ip/<address or prefix>` or
 * `autnum/<n>`. Bounded: one deadline for the whole query (bootstrap included), `maxBytes` per
 * body, `maxRedirects` per request (followed by hand, so every hop is bounded alike).
 */
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import { parsePrefix, type Prefix } from './ipcalc.js';
import type { RegistryQuery } from './query.js';

export interface RdapOptions {
  /** ends with a slash */
  readonly bootstrapUrl: string;
  readonly bootstrapTtlMs: number;
  readonly timeoutMs: number;
  readonly maxRedirects: number;
  readonly maxBytes: number;
}

export interface RdapResult {
  readonly query: string;
  readonly kind: RegistryQuery['kind'];
  /** the URL that answered */
  readonly url: string;
  /** the RDAP object as the server sent it */
  readonly data: Readonly<Record<string, unknown>>;
}

type Services = readonly (readonly [readonly string[], readonly string[]])[];
type Registry = 'dns' | 'ipv4' | 'ipv6' | 'asn';

/** An RDAP client with its bootstrap cache. `now` is wall-clock ms (injected). */
export interface RdapClient {
  query(q: RegistryQuery, o: RdapOptions): Promise<RdapResult>;
}

const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

function causeCode(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : '';
}

async function readBounded(res: Response, maxBytes: number, url: string): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new AppError(ErrorCodes.TOOL_ERR_TOO_LARGE, `${url} announces ${declared} bytes; at most ${maxBytes} are read`);
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  // leaving the loop early cancels the stream
  for await (const value of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += value.length;
    if (size > maxBytes) throw new AppError(ErrorCodes.TOOL_ERR_TOO_LARGE, `${url} sent more than ${maxBytes} bytes`);
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** GET with redirects followed by hand; the JSON body of a 2xx answer. */
async function getJson(url: string, o: RdapOptions, signal: AbortSignal): Promise<{ url: string; body: unknown }> {
  let current = url;
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetch(current, { signal, redirect: 'manual', headers: { accept: 'application/rdap+json, application/json' } });
    } catch (e) {
      if (signal.aborted) throw new AppError(ErrorCodes.TOOL_ERR_TIMEOUT, `RDAP ${current} did not answer in time`);
      const code = causeCode(e);
      const which = UNREACHABLE.has(code) ? ErrorCodes.TOOL_ERR_UNREACHABLE : ErrorCodes.TOOL_ERR_UPSTREAM;
      throw new AppError(which, `RDAP server ${new URL(current).host} cannot be reached (${code || errorMessage(e)}); is there internet access?`);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location !== null) {
      await res.body?.cancel();
      if (hop >= o.maxRedirects) throw new AppError(ErrorCodes.TOOL_ERR_UPSTREAM, `RDAP ${url}: more than ${o.maxRedirects} redirects`);
      current = new URL(location, current).href;
      if (!/^https?:/.test(current)) throw new AppError(ErrorCodes.TOOL_ERR_UPSTREAM, `RDAP ${url}: redirect to a non-HTTP URL`);
      continue;
    }
    const text = await readBounded(res, o.maxBytes, current).catch((e: unknown) => {
      if (signal.aborted) throw new AppError(ErrorCodes.TOOL_ERR_TIMEOUT, `RDAP ${current} did not answer in time`);
      throw e;
    });
    if (res.status === 404) throw new AppError(ErrorCodes.TOOL_ERR_NOT_FOUND, `RDAP ${current}: no such object (404)`);
    if (res.status < 200 || res.status > 299) throw new AppError(ErrorCodes.TOOL_ERR_UPSTREAM, `RDAP ${current} answered HTTP ${res.status}`);
    try {
      return { url: current, body: JSON.parse(text) as unknown };
    } catch {
      throw new AppError(ErrorCodes.TOOL_ERR_UPSTREAM, `RDAP ${current} did not answer JSON`);
    }
  }
}

function servicesOf(body: unknown, url: string): Services {
  const services = (body as { services?: unknown } | null)?.services;
  const valid = Array.isArray(services) && services.every((s) => Array.isArray(s) && s.length >= 2 && Array.isArray(s[0]) && Array.isArray(s[1]));
  if (!valid) throw new AppError(ErrorCodes.TOOL_ERR_UPSTREAM, `${url} is not an RDAP bootstrap registry (RFC 9224)`);
  return services as Services;
}

/** The base URLs for the query from a bootstrap registry (RFC 9224 sections 4 and 5), best match first. */
export function selectServers(registry: Registry, services: Services, q: RegistryQuery): readonly string[] {
  let best: { urls: readonly string[]; score: number } | null = null;
  const consider = (urls: readonly string[], score: number): void => {
    if (best === null || score > best.score) best = { urls, score };
  };
  for (const [entries, urls] of services) {
    for (const entry of entries) {
      if (q.kind === 'domain' && registry === 'dns') {
        const e = entry.toLowerCase();
        if (q.text === e || q.text.endsWith(`.${e}`)) consider(urls, e.split('.').length);
      } else if (q.kind === 'asn' && registry === 'asn') {
        const [lo, hi] = entry.split('-').map(Number);
        if (lo !== undefined && q.asn >= lo && q.asn <= (hi ?? lo)) consider(urls, 0);
      } else if (q.kind === 'ip') {
        let p: Prefix;
        try {
          p = parsePrefix(entry);
        } catch {
          continue;
        }
        const mask = ~((1n << BigInt(p.bits - p.prefix)) - 1n);
        if (p.bits === q.prefix.bits && q.prefix.prefix >= p.prefix && (q.prefix.network & mask) === p.network) consider(urls, p.prefix);
      }
    }
  }
  const found = (best as { urls: readonly string[] } | null)?.urls ?? [];
  return [...found.filter((u) => u.startsWith('https:')), ...found.filter((u) => u.startsWith('http:'))];
}

const registryOf = (q: RegistryQuery): Registry => (q.kind === 'domain' ? 'dns' : q.kind === 'asn' ? 'asn' : q.prefix.bits === 32 ? 'ipv4' : 'ipv6');

function objectPath(q: RegistryQuery): string {
  switch (q.kind) {
    case 'domain':
      return `domain/${q.text}`;
    case 'asn':
      return `autnum/${q.asn}`;
    case 'ip':
      return `ip/${q.text}`;
  }
}

export function createRdapClient(now: () => number): RdapClient {
  const cache = new Map<string, { services: Services; fetchedMs: number }>();
  const bootstrap = async (registry: Registry, o: RdapOptions, signal: AbortSignal): Promise<Services> => {
    const url = new URL(`${registry}.json`, o.bootstrapUrl).href;
    const hit = cache.get(url);
    if (hit !== undefined && now() - hit.fetchedMs < o.bootstrapTtlMs) return hit.services;
    const services = servicesOf((await getJson(url, o, signal)).body, url);
    cache.set(url, { services, fetchedMs: now() });
    return services;
  };
  return {
    async query(q, o) {
      const signal = AbortSignal.timeout(o.timeoutMs);
      const registry = registryOf(q);
      const servers = selectServers(registry, await bootstrap(registry, o, signal), q);
      if (servers.length === 0) throw new AppError(ErrorCodes.TOOL_ERR_NOT_FOUND, `the RDAP bootstrap registry ${registry}.json names no server for ${q.text}`);
      const base = servers[0]!.endsWith('/') ? servers[0]! : `${servers[0]!}/`;
      const { url, body } = await getJson(new URL(objectPath(q), base).href, o, signal);
      if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof (body as { objectClassName?: unknown }).objectClassName !== 'string') {
        throw new AppError(ErrorCodes.TOOL_ERR_UPSTREAM, `${url} did not answer an RDAP object (no objectClassName)`);
      }
      return { query: q.text, kind: q.kind, url, data: body as Record<string, unknown> };
    },
  };
}
