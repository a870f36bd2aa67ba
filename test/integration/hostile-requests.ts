/**
 * Hostile HTTP requests, as a client that wants to break wireprobe would send them: malformed
 * percent-encodings, unknown paths, wrong methods, mistyped, oversized, deep and prototype
 * bodies, extreme numbers, odd names, charsets and media types, bad tokens, admin endpoints.
 * Deterministic (seeded); used by api-hostile-requests.test.ts (a few hundred) and by
 * bench/api-hostile.ts (10 000). Sent raw through node:http, so any path and header goes.
 */
import { request } from 'node:http';
import { rng } from '../fakes/rng.js';

export interface HostileRequest {
  readonly what: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface HostileReply {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

const BAD_ESCAPES = ['%', '%zz', '%FF', 'x%E0%A4%A', '%C0%AF', '%%', '%2', '%u0041', 'a%00b', '%ED%A0%80', '%F4%90%80%80'];
const METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'POST', 'OPTIONS', 'TRACE', 'PROPFIND'];
const PATHS = [
  '/api/v1/targets', '/api/v1/targets/x', '/api/v1/targets/', '/api/v1/nope', '/api/v2/targets', '/api/ui', '/api/ui/',
  '/api/ui/nope.js', '/api/ui/../../etc/passwd', '/api/v1/openapi.json', '/nope', '/metrics/x', '/-/reload', '/-/nope',
  '/api/v1/targets/..', '/api/v1/targets/.', '/api/v1/targets/%2e%2e', '/api/v1/targets/a/b', '//api/v1/targets',
  `/${'a'.repeat(4000)}`, '/api/v1/targets?name[$ne]=1', '/api/v1/targets?type=x&type=y', '/api/v1/targets?group=%zz',
];
const NAMES = ['.', '..', '', ' ', 'A', 'a'.repeat(129), '__proto__', 'constructor', 'wéb', 'a\u0000b', 'a/b', '%', 7, null, true, [], {}];
const TYPES = ['ICMPping', 'TCPsyn', 'UDPunreachable', 'icmpping', '', 3, null];
const NUMBERS: unknown[] = [0, -1, 0.5, 1e308, -1e308, 1e20, 2 ** 53, 65536, 10001, 3601, '1', 'NaN', true, [], {}, null];
const NUMERIC_KEYS = ['nb_packets', 'ip_payload_size', 'timeout', 'dns_update_interval', 'dst_port', 'lifetime'];
const CONTENT_TYPES = [
  'application/json; charset=utf-16', 'application/json; charset=utf-16le', 'application/json; charset=latin1',
  'application/json; charset="utf-32"', 'application/json; charset=', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/json-patch+json', '', 'application/json; charset=UTF-8',
];
const AUTH = ['', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer x', `Bearer ${'x'.repeat(5000)}`, 'bearer\tx', 'Bearer a b'];

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** The hostile requests: `n` of them from `seed`; `tokens.write` and `tokens.read` are valid tokens. */
export function hostileRequests(n: number, seed: number, tokens: { read: string; write: string }): HostileRequest[] {
  const r = rng(seed).next;
  const json = (extra: Record<string, string> = {}): Record<string, string> => ({
    'content-type': 'application/json',
    authorization: `Bearer ${tokens.write}`,
    ...extra,
  });
  const entry = (): Record<string, unknown> => ({ type: 'ICMPping', destination: `198.18.${Math.floor(r() * 250)}.${1 + Math.floor(r() * 250)}` });
  const makers: (() => HostileRequest)[] = [
    () => {
      const bad = pick(r, BAD_ESCAPES);
      const method = pick(r, METHODS);
      return { what: `bad escape ${bad}`, method, path: pick(r, [`/api/v1/targets/${bad}`, `/${bad}`, `/api/ui/${bad}`, `/-/reload${bad}`, `/metrics${bad}`]), headers: json() };
    },
    () => ({ what: 'path', method: pick(r, METHODS), path: pick(r, PATHS), headers: r() < 0.5 ? json() : {} }),
    () => {
      const key = pick(r, NUMERIC_KEYS);
      const body = JSON.stringify({ name: `n${Math.floor(r() * 1e6)}`, ...entry(), [key]: pick(r, NUMBERS) });
      return { what: `mistyped ${key}`, method: 'POST', path: '/api/v1/targets', headers: json(), body };
    },
    () => {
      const name = pick(r, NAMES);
      return { what: `name ${JSON.stringify(name)}`, method: 'POST', path: '/api/v1/targets', headers: json(), body: JSON.stringify({ name, ...entry() }) };
    },
    () => {
      const depth = pick(r, [9, 100, 10_000, 100_000]);
      return { what: `depth ${depth}`, method: pick(r, ['POST', 'PUT', 'PATCH']), path: '/api/v1/targets/deep', headers: json(), body: `${'['.repeat(depth)}${']'.repeat(depth)}` };
    },
    () => {
      const size = pick(r, [65_537, 200_000, 1_000_000]);
      return { what: `size ${size}`, method: 'POST', path: '/api/v1/targets', headers: json(), body: JSON.stringify({ name: 'big', description: 'y'.repeat(size) }) };
    },
    () => ({
      what: 'prototype keys',
      method: pick(r, ['POST', 'PUT', 'PATCH']),
      path: '/api/v1/targets/p',
      headers: json(),
      body: pick(r, ['{"__proto__": {"x": 1}}', '{"constructor": {"prototype": {"x": 1}}}', '{"threshold": {"__proto__": {"x": 1}}}']),
    }),
    () => ({ what: 'malformed JSON', method: 'POST', path: '/api/v1/targets', headers: json(), body: pick(r, ['{', '{"a":}', 'nul', '\u0000', '{"a": 1}}', '"x"', '1e999', '{"a": 1e999}']) }),
    () => {
      const type = pick(r, CONTENT_TYPES);
      return { what: `content-type ${type}`, method: 'POST', path: '/api/v1/targets', headers: json({ 'content-type': type }), body: JSON.stringify({ name: 'ct', ...entry() }) };
    },
    () => {
      const auth = pick(r, [...AUTH, `Bearer ${tokens.read}`]);
      return { what: `auth ${auth.slice(0, 20)}`, method: pick(r, ['POST', 'PUT', 'DELETE', 'PATCH', 'GET']), path: '/api/v1/targets/a', headers: json({ authorization: auth }), body: JSON.stringify({ ...entry() }) };
    },
    () => {
      const auth = pick(r, ['', 'Bearer nope', `Bearer ${tokens.read}`, `Bearer ${tokens.write}`]);
      return { what: 'reload', method: pick(r, ['POST', 'GET', 'PUT']), path: '/-/reload', headers: auth === '' ? {} : { authorization: auth } };
    },
    () => ({ what: 'type', method: 'POST', path: '/api/v1/targets', headers: json(), body: JSON.stringify({ name: `t${Math.floor(r() * 1e6)}`, type: pick(r, TYPES), destination: '198.18.0.1', dst_port: 80 }) }),
    () => {
      // values the schema allows at their extremes: these are created (201) or refused for a clean reason (409 limit)
      const body = { name: `x${Math.floor(r() * 1e9)}`, type: 'TCPsyn', destination: '198.18.0.1', dst_port: pick(r, [1, 65535]), nb_packets: pick(r, [1, 10000]), ip_payload_size: pick(r, [0, 65000]), timeout: pick(r, [0.001, 3600]), dns_update_interval: pick(r, [0, 604800]) };
      return { what: 'extreme allowed values', method: 'POST', path: '/api/v1/targets', headers: json(), body: JSON.stringify(body) };
    },
    () => {
      const name = `x${Math.floor(r() * 20)}`;
      return { what: 'race on one name', method: pick(r, ['PUT', 'PATCH', 'DELETE']), path: `/api/v1/targets/${name}`, headers: json(), body: JSON.stringify({ ...entry(), nb_packets: pick(r, [1, 2, 10000]) }) };
    },
  ];
  const out: HostileRequest[] = [];
  for (let i = 0; i < n; i++) out.push(makers[i % makers.length]!());
  return out;
}

/** Sends one request raw; resolves with the status and body (status 0: connection closed early, -1: no answer in time). */
export function send(base: URL, q: HostileRequest, timeoutMs = 10_000): Promise<HostileReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...q.headers };
    if (q.body !== undefined) headers['content-length'] = Buffer.byteLength(q.body);
    const req = request({ host: base.hostname, port: base.port, method: q.method, path: q.path, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => {
      resolve({ status: -1, contentType: '', text: `no answer within ${timeoutMs} ms` });
      req.destroy();
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      // a server that refuses a large body may close before reading it all: that is an answer too
      // (after a timeout, the promise is already settled and this changes nothing)
      if (e.code === 'EPIPE' || e.code === 'ECONNRESET') resolve({ status: 0, contentType: '', text: e.code });
      else reject(e);
    });
    req.end(q.body);
  });
}

/** Runs `requests` with `concurrency` in flight; the replies in request order. */
export async function sendAll(base: URL, requests: readonly HostileRequest[], concurrency: number): Promise<HostileReply[]> {
  const replies: HostileReply[] = new Array<HostileReply>(requests.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const i = next++;
      replies[i] = await send(base, requests[i]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return replies;
}

/** Status code → count, for reports. */
export function statusCounts(replies: readonly HostileReply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of replies) counts[String(r.status)] = (counts[String(r.status)] ?? 0) + 1;
  return counts;
}

/** What is wrong with a reply, or null: a 5xx, or an error that is not the JSON error shape. */
export function replyProblem(q: HostileRequest, r: HostileReply): string | null {
  if (r.status === -1) return r.text;
  if (r.status === 0) return q.body !== undefined && q.body.length > 65_536 ? null : `connection closed without an answer (${r.text})`;
  if (r.status >= 500) return `${r.status}: ${r.text.slice(0, 200)}`;
  if (r.status < 400 || q.method === 'HEAD') return null;
  if (!r.contentType.startsWith('application/json')) return `${r.status} is not JSON (${r.contentType})`;
  try {
    const body = JSON.parse(r.text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') return `${r.status} without error.code: ${r.text.slice(0, 200)}`;
  } catch {
    return `${r.status} body is not JSON: ${r.text.slice(0, 200)}`;
  }
  return null;
}
