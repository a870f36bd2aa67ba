/**
 * GET /api/v1/flows end to end on 127.0.0.1 over a real SQLite store, and `wireprobe flows top`
 * against the same database (--db) and the same server (--url): auth like the other reads,
 * filters, group by, JSON errors with codes, hostile query strings (never a 5xx), the OpenAPI
 * entry in Swagger UI, and the CLI's exit codes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { loadOpenApi, swaggerRouter } from '../../src/api/docs.js';
import { flowsRouter } from '../../src/api/flows-routes.js';
import { API_PREFIX } from '../../src/api/routes.js';
import type { ApiConfig, ApiToken } from '../../src/config/types.js';
import { openSqliteFlowStore, type SqliteFlowStore } from '../../src/flows/store/sqlite.js';
import type { FlowQueryable } from '../../src/flows/types.js';
import { checkPercentEncoding, jsonErrorHandler, notFoundHandler, onClientError } from '../../src/http/errors.js';
import { AppError, ErrorCodes } from '../../src/lib/errors.js';
import { flowBatch, syntheticBatch } from '../fakes/flow-batch.js';
import { memoryLogger } from '../fakes/logger.js';
import { rng } from '../fakes/rng.js';
import { WIREPROBE_MAIN } from '../lab/wireprobe.js';

const READ = 'read-token-flows-0123456789';
const WRITE = 'write-token-flows-0123456789';
const TOKENS: ApiToken[] = [
  { token: READ, scope: 'read', source: 'test' },
  { token: WRITE, scope: 'write', source: 'test' },
];
const apiConfig = (tokens: ApiToken[]): ApiConfig => ({
  enabled: true, tokens, max_targets: 10, state_file: null, body_limit_bytes: 65536, default_lifetime: 0, max_lifetime: 0, default_groups: null,
});

const dir = mkdtempSync(join(tmpdir(), 'wpt-flowapi-'));
const DB = join(dir, 'flows.db');
const now = Date.now();

interface Served {
  readonly base: string;
  readonly server: Server;
  readonly lines: string[];
}

async function serve(store: FlowQueryable, tokens: ApiToken[]): Promise<Served> {
  const { log, lines } = memoryLogger();
  const app = express();
  app.use(checkPercentEncoding);
  app.use(API_PREFIX, flowsRouter({ store, settings: () => apiConfig(tokens), log, wallMs: () => Date.now() }));
  app.use('/api/ui', swaggerRouter(loadOpenApi()));
  app.use(notFoundHandler);
  app.use(jsonErrorHandler(log));
  const server = app.listen(0, '127.0.0.1');
  server.on('clientError', onClientError);
  await new Promise((resolve) => server.once('listening', resolve));
  return { base: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, lines };
}

const get = async (s: Served, path: string, token?: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> => {
  const res = await fetch(`${s.base}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } };
};
const codeOf = (b: Record<string, unknown>): string => (b['error'] as { code: string }).code;

let store: SqliteFlowStore;
before(async () => {
  store = await openSqliteFlowStore({ config: { path: DB, retention: { max_age: 0, max_bytes: 0 }, batch_size: 5000, flush_interval: 0.1 }, log: memoryLogger().log });
  store.write(syntheticBatch(20_000, 1, now - 3_600_000, now - 60_000));
  store.write(
    flowBatch([
      { src: '203.0.113.7', dst: '198.19.1.1', srcPort: 40000, dstPort: 443, proto: 6, bytes: 9e9, packets: 6e6, endMs: now - 30_000 },
      { src: '203.0.113.7', dst: '198.19.1.2', srcPort: 40001, dstPort: 443, proto: 6, bytes: 1e9, packets: 1e6, endMs: now - 20_000 },
      { src: '2001:db8:77::1', dst: '2001:db8:88::1', srcPort: 5353, dstPort: 53, proto: 17, bytes: 5e8, packets: 100, endMs: now - 10_000, exporter: '2001:db8:ffff::2', inIf: 9 },
    ]),
  );
  await store.flush(60_000);
});
after(async () => {
  await store.close(10_000);
  rmSync(dir, { recursive: true, force: true });
});

void describe('GET /api/v1/flows', () => {
  let s: Served;
  before(async () => {
    s = await serve(store, TOKENS);
  });
  after(() => new Promise<void>((resolve) => s.server.close(() => resolve())));

  void test('auth: no token 401, wrong token 401, read and write tokens 200', async () => {
    const none = await get(s, '/api/v1/flows');
    assert.equal(none.status, 401);
    assert.equal(codeOf(none.body), 'API_ERR_UNAUTHORIZED');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="wireprobe"/);
    assert.equal((await get(s, '/api/v1/flows', 'nope')).status, 401);
    assert.equal((await get(s, '/api/v1/flows', READ)).status, 200);
    assert.equal((await get(s, '/api/v1/flows', WRITE)).status, 200);
  });

  void test('group_by src over 2h: the top talker first, totals and others add up', async () => {
    const r = await get(s, '/api/v1/flows?from=2h&group_by=src&limit=3', READ);
    assert.equal(r.status, 200);
    const rows = r.body['rows'] as { key: Record<string, unknown>; flows: number; bytes: number }[];
    assert.deepEqual(rows[0], { key: { src: '203.0.113.7' }, flows: 2, bytes: 1e10, packets: 7e6 });
    const totals = r.body['totals'] as { flows: number; bytes: number };
    const others = r.body['others'] as { flows: number; bytes: number };
    assert.equal(totals.flows, 20_003);
    assert.equal(others.flows, totals.flows - rows.reduce((n, x) => n + x.flows, 0));
    assert.equal(r.body['group_by'], 'src');
    const direct = await store.query({ fromMs: Date.parse(String(r.body['from'])), toMs: Date.parse(String(r.body['to'])), filter: {}, groupBy: 'src', orderBy: 'bytes', limit: 3 }, 10_000);
    assert.deepEqual(rows, direct.rows);
  });

  void test('filters: CIDR (v4, v6), addr, proto by name, ports, exporter, in_if, repeated and comma lists', async () => {
    const flows = async (q: string): Promise<number> => {
      const r = await get(s, `/api/v1/flows?${q.includes('from=') ? '' : 'from=2h&'}${q}`, READ);
      assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
      return (r.body['totals'] as { flows: number }).flows;
    };
    assert.equal(await flows('src=203.0.113.0/24'), 2);
    assert.equal(await flows('src=203.0.113.0/24&dst=198.19.1.2'), 1);
    assert.equal(await flows('addr=2001:db8:88::/48'), 1);
    assert.equal(await flows('addr=2001:db8:88::/48&proto=udp&port=53&exporter=2001:db8:ffff::2&in_if=9'), 1);
    assert.equal(await flows('addr=2001:db8:88::/48&proto=tcp'), 0);
    assert.equal(await flows('src=203.0.113.7&src_port=40000,40001'), 2);
    assert.equal(await flows('src=203.0.113.7&src_port=40000&src_port=40001&dst_port=443'), 2);
    assert.equal(await flows(`src=203.0.113.7&from=${Math.ceil((Date.now() - now + 25_000) / 1000)}s`), 1, 'relative from');
    assert.equal(await flows(`src=203.0.113.7&from=${new Date(now - 25_000).toISOString()}&to=now`), 1);
    const flat = await get(s, '/api/v1/flows?from=2h&src=203.0.113.7&order_by=flows', READ);
    const rows = flat.body['rows'] as { key: Record<string, unknown> }[];
    assert.deepEqual(rows.map((x) => x.key['dst']), ['198.19.1.2', '198.19.1.1'], 'newest first');
    assert.equal(flat.body['others'], null);
  });

  void test('bad parameters: 400 API_ERR_BAD_REQUEST naming the parameter', async () => {
    for (const [q, word] of [
      ['src=300.0.0.0/8', 'src'], ['src=198.18.0.0/33', 'src'], ['proto=tcpp', 'proto'], ['port=65536', 'port'], ['limit=0', 'limit'], ['limit=1001', 'limit'],
      ['group_by=srcs', 'group_by'], ['order_by=size', 'order_by'], ['from=yesterday', 'from'], ['from=1h&to=2h', 'from'], ['bogus=1', 'bogus'],
      ['group_by=src&group_by=dst', 'group_by'], ['exporter=router1', 'exporter'], ['in_if=-1', 'in_if'],
    ] as const) {
      const r = await get(s, `/api/v1/flows?${q}`, READ);
      assert.equal(r.status, 400, q);
      assert.equal(codeOf(r.body), 'API_ERR_BAD_REQUEST', q);
      assert.match((r.body['error'] as { message: string }).message, new RegExp(word), q);
    }
  });

  void test('POST is 405 with Allow; hostile query strings never get a 5xx', async () => {
    const post = await fetch(`${s.base}/api/v1/flows`, { method: 'POST', headers: { authorization: `Bearer ${READ}` } });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const r = rng(11);
    const pieces = ['src', 'dst', 'addr', 'port', 'proto', 'limit', 'from', 'to', 'group_by', '[]', '[a]', '=', '&', '%', '%zz', '%00', '%ff', '..', '::', '/', ',', '1e309', '-0', 'é', '\u202e', '198.18.0.0/16', 'x'.repeat(5000)];
    const queries = [`${'src=1.2.3.4&'.repeat(2000)}`, 'src[0]=1.2.3.4', 'src[a][b]=1', 'limit=1e3', 'from=99999999999w', 'from=1ms', `src=${','.repeat(100)}`];
    for (let i = 0; i < 300; i++) queries.push(Array.from({ length: 1 + r.int(8) }, () => pieces[r.int(pieces.length)]!).join(''));
    for (const q of queries) {
      const res = await fetch(`${s.base}/api/v1/flows?${q}`, { headers: { authorization: `Bearer ${READ}` } });
      const body = await res.text();
      assert.ok(res.status < 500, `${res.status} for ${q.slice(0, 80)}: ${body.slice(0, 200)}`);
      assert.ok(body.startsWith('{'), `${res.status} for ${q.slice(0, 80)}: ${body.slice(0, 200)}`);
    }
    assert.deepEqual(s.lines.filter((l) => l.includes('level=error')), []);
  });

  void test('the OpenAPI document served by Swagger UI describes GET /flows', async () => {
    const doc = loadOpenApi().doc as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/flows'] !== undefined);
    const init = await fetch(`${s.base}/api/ui/swagger-ui-init.js`);
    assert.equal(init.status, 200);
    assert.match(await init.text(), /"\/flows"[\s\S]*"queryFlows"/);
  });
});

void test('GET /api/v1/flows: no tokens configured → open reads; store timeouts and busy become 503 with codes', async () => {
  const open = await serve(store, []);
  try {
    assert.equal((await get(open, '/api/v1/flows?group_by=proto')).status, 200);
  } finally {
    open.server.close();
  }
  let fail: AppError = new AppError(ErrorCodes.FLOWDB_ERR_QUERY_TIMEOUT, 'the flow query did not finish within its timeout');
  const failing = await serve({ query: () => Promise.reject(fail) }, []);
  try {
    const t = await get(failing, '/api/v1/flows');
    assert.deepEqual([t.status, codeOf(t.body)], [503, 'API_ERR_QUERY_TIMEOUT']);
    fail = new AppError(ErrorCodes.FLOWDB_ERR_BUSY, '8 flow queries are already waiting');
    const b = await get(failing, '/api/v1/flows');
    assert.deepEqual([b.status, codeOf(b.body), b.headers.get('retry-after')], [503, 'API_ERR_UNAVAILABLE', '1']);
    fail = new AppError(ErrorCodes.FLOWDB_ERR_STORE, 'disk I/O error at /secret/path');
    const d = await get(failing, '/api/v1/flows');
    assert.deepEqual([d.status, codeOf(d.body)], [503, 'API_ERR_UNAVAILABLE']);
    assert.ok(!JSON.stringify(d.body).includes('/secret/path'), 'store details stay in the log');
  } finally {
    failing.server.close();
  }
});

/** Runs wireprobe with args; resolves with its exit code and output. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WIREPROBE_MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

void describe('wireprobe flows top', () => {
  let s: Served;
  before(async () => {
    s = await serve(store, TOKENS);
  });
  after(() => new Promise<void>((resolve) => s.server.close(() => resolve())));

  void test('--db: the top sources as a table and as JSON, read-only while the store is open', async () => {
    const t = await cli(['flows', 'top', '--since', '2h', '--by', 'src', '--limit', '3', '--db', DB]);
    assert.equal(t.code, 0, t.stderr);
    const lines = t.stdout.trimEnd().split('\n');
    assert.match(lines[1]!, /^src\s+flows\s+bytes\s+packets\s+bytes%$/);
    assert.match(lines[2]!, /^203\.0\.113\.7\s+2\s+10000000000\s+7000000\s+\d+\.\d%$/);
    assert.match(lines.at(-1)!, /^\(total\)\s+20003\s/);
    const j = await cli(['flows', 'top', '--since=2h', '--by=dst_port', '--filter', 'src=203.0.113.0/24', '--filter', 'proto=tcp', '--json', '--db', DB]);
    assert.equal(j.code, 0, j.stderr);
    const v = JSON.parse(j.stdout) as { rows: { key: { dst_port: number }; flows: number }[] };
    assert.deepEqual(v.rows.map((r) => [r.key.dst_port, r.flows]), [[443, 2]]);
  });

  void test('--url: the same answer through the API with $WIREPROBE_API_TOKEN; a bad token exits 77', async () => {
    const viaDb = await cli(['flows', 'top', '--since', '2h', '--by', 'conversation', '--limit', '2', '--json', '--db', DB]);
    const viaApi = await cli(['flows', 'top', '--since', '2h', '--by', 'conversation', '--limit', '2', '--json', '--url', s.base], { WIREPROBE_API_TOKEN: READ });
    assert.equal(viaApi.code, 0, viaApi.stderr);
    const rowsOf = (text: string): unknown => (JSON.parse(text) as { rows: unknown }).rows;
    assert.deepEqual(rowsOf(viaApi.stdout), rowsOf(viaDb.stdout));
    const bad = await cli(['flows', 'top', '--by', 'src', '--url', s.base], { WIREPROBE_API_TOKEN: 'wrong' });
    assert.equal(bad.code, 77);
    assert.match(bad.stderr, /401 API_ERR_UNAUTHORIZED/);
  });

  void test('exit codes: 64 usage, 65 bad data, 69 unavailable', async () => {
    const notDb = join(dir, 'not-a-db');
    writeFileSync(notDb, 'hello, I am not SQLite\n'.repeat(100));
    const cases: [string[], number, RegExp][] = [
      [['flows'], 64, /unknown flows command/],
      [['flows', 'top', '--db', DB], 64, /--by KEY is required/],
      [['flows', 'top', '--by', 'src'], 64, /one of --db PATH or --url/],
      [['flows', 'top', '--by', 'src', '--frobnicate', '--db', DB], 64, /unknown argument --frobnicate/],
      [['flows', 'top', '--by', 'src', '--filter', 'colour=red', '--db', DB], 64, /--filter wants KEY=VALUE/],
      [['flows', 'top', '--by', 'src', '--filter', 'src=10.0.0.0/99', '--db', DB], 65, /src: "10\.0\.0\.0\/99" is not an IP address or CIDR/],
      [['flows', 'top', '--by', 'src', '--since', 'a-while', '--db', DB], 65, /from: /],
      [['flows', 'top', '--by', 'src', '--db', notDb], 65, /not-a-db/],
      [['flows', 'top', '--by', 'src', '--db', join(dir, 'missing.db')], 69, /no such file/],
      [['flows', 'top', '--by', 'src', '--url', 'http://127.0.0.1:1'], 69, /127\.0\.0\.1:1/],
      [['flows', 'top', '--by', 'srcs', '--url', s.base], 65, /400 API_ERR_BAD_REQUEST/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(args, { WIREPROBE_API_TOKEN: READ });
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    const help = await cli(['--help']);
    assert.match(help.stdout, /wireprobe flows top --since 15m --by src/);
  });
});
