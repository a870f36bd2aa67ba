/**
 * The operations API over real HTTP on 127.0.0.1, in the real HTTP app with the target API
 * mounted after it, driven through a FAKE runner (test/fakes/operation-runner.ts: no packet is
 * sent): scopes, limits, hostile bodies, the event stream, cancel and retention.
 */
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { Registry } from 'prom-client';
import { createApi } from '../../src/api/index.js';
import { createOperationsService, type OperationsService } from '../../src/api/operations-service.js';
import { parseConfig } from '../../src/config/load.js';
import { AppError, ErrorCodes } from '../../src/lib/errors.js';
import { createHttpApp, httpLimits, listen } from '../../src/http/server.js';
import { FastRegistry } from '../../src/metrics/fast.js';
import { FakeClock } from '../fakes/clock.js';
import { memoryLogger } from '../fakes/logger.js';
import { FakeOperationRunner } from '../fakes/operation-runner.js';
import { FakeSources, READ_TOKEN, WRITE_TOKEN, call, codeOf, type Harness, type Reply } from './api-harness.js';
import { replyProblem, sendAll, type HostileRequest } from './hostile-requests.js';

const OPERATE_TOKEN = 'operate-token-0123456789abcdef';
const OTHER_OPERATE_TOKEN = 'operate-token-2-0123456789abcdef';
const BASE = [
  'global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}',
  'groups: {g1: {}}',
].join('\n');
const TOKENS = [
  'api:',
  '  tokens:',
  `    - {token: ${READ_TOKEN}, scope: read}`,
  `    - {token: ${WRITE_TOKEN}, scope: write}`,
  `    - {token: ${OPERATE_TOKEN}, scope: operate}`,
  `    - {token: ${OTHER_OPERATE_TOKEN}, scope: operate}`,
].join('\n');
const OPERATIONS = [
  'operations:',
  '  max_concurrent: 2',
  '  max_packets: 50',
  '  rate: {per_minute: 6, burst: 3}',
  '  allow: [198.18.0.0/15, "2001:db8::/32"]',
  '  deny: [198.18.66.0/24]',
  '  keep_for: 60',
].join('\n');

interface OpsHarness extends Harness {
  readonly service: OperationsService;
  readonly runner: FakeOperationRunner;
}

async function startOps(text: string, opts: { start?: boolean } = {}): Promise<OpsHarness> {
  const { config } = parseConfig(text, 'ops-test.yaml');
  const sources = new FakeSources(config);
  const clock = new FakeClock();
  const registry = new Registry();
  const { log, lines } = memoryLogger();
  const runner = new FakeOperationRunner();
  const api = createApi({ sources, config: config.api!, clock, log, registry });
  const service = createOperationsService({
    runner, config: config.operations!, apiConfig: config.api!, clock, log, registry,
    resolve: (name) => (name === 'mgmt.test' ? Promise.resolve('198.18.66.10') : Promise.reject(new AppError(ErrorCodes.DNS_ERR_RESOLVE, 'NXDOMAIN'))),
    localAddresses: () => ['198.18.0.254'],
    heartbeatMs: 1_000,
  });
  await api.start();
  if (opts.start !== false) service.start();
  // as the app mounts subsystem routers: operations before the target API (whose /api/v1 router answers 404 to the rest)
  const app = createHttpApp({
    registry, fast: new FastRegistry(), ready: () => true, api: express.Router().use(service.router, api.router),
    tokens: () => sources.config().api?.tokens ?? [], log,
  });
  const server: Server = await listen(app, '127.0.0.1', 0, httpLimits(config.global));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`, api, sources, registry, clock, lines, service, runner,
    async close() {
      await service.stop(100);
      await api.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

const PING = { kind: 'ping', destination: '198.18.0.1', count: 3 };
const post = (h: Harness, body: unknown, token = OPERATE_TOKEN): Promise<Reply> => call(h, 'POST', '/api/v1/operations', { token, body });

interface Stream {
  readonly res: IncomingMessage;
  /** parsed events so far: id, event and the JSON data */
  readonly events: { id: string; event: string; data: Record<string, unknown> }[];
  /** raw text so far (heartbeat comments included) */
  text: string;
  readonly ended: Promise<void>;
  /** resolves once `n` events arrived */
  until(n: number): Promise<void>;
  close(): void;
}

function openStream(h: Harness, id: string, headers: Record<string, string> = {}): Promise<Stream> {
  const url = new URL(h.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: `/api/v1/operations/${id}/events`, headers: { authorization: `Bearer ${READ_TOKEN}`, ...headers } }, (res) => {
      const waiters: { n: number; resolve: () => void }[] = [];
      let buffer = '';
      const s: Stream = {
        res, events: [], text: '',
        ended: new Promise((done) => res.on('close', () => done())),
        until: (n) => new Promise((r) => (s.events.length >= n ? r() : waiters.push({ n, resolve: r }))),
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        s.text += chunk;
        buffer += chunk;
        for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
          if (fields.event !== undefined) s.events.push({ id: fields.id!, event: fields.event, data: JSON.parse(fields.data!) as Record<string, unknown> });
        }
        for (const w of waiters.filter((x) => s.events.length >= x.n)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      });
      resolve(s);
    });
    req.on('error', reject);
    req.end();
  });
}

void describe('operations API: scopes', () => {
  let h: OpsHarness;
  before(async () => (h = await startOps(`${BASE}\n${TOKENS}\n${OPERATIONS}`)));
  after(() => h.close());

  void it('start needs the operate scope: read and write tokens are forbidden, no token is unauthorized', async () => {
    for (const token of [READ_TOKEN, WRITE_TOKEN]) {
      const r = await post(h, PING, token);
      assert.deepEqual([r.status, codeOf(r)], [403, 'API_ERR_FORBIDDEN'], token);
      assert.match(r.headers.get('www-authenticate') ?? '', /scope="operate"/);
    }
    const anon = await call(h, 'POST', '/api/v1/operations', { body: PING });
    assert.deepEqual([anon.status, codeOf(anon)], [401, 'API_ERR_UNAUTHORIZED']);
    assert.equal(h.runner.runs.length, 0);
  });

  void it('an operate token starts (202, links, Location); read, write and operate tokens read it; reading needs a token', async () => {
    const r = await post(h, PING);
    assert.equal(r.status, 202);
    const b = r.body as { id: string; kind: string; state: string; links: { self: string; events: string } };
    assert.deepEqual(b, { id: b.id, kind: 'ping', state: 'running', links: { self: `/api/v1/operations/${b.id}`, events: `/api/v1/operations/${b.id}/events` } });
    assert.equal(r.headers.get('location'), b.links.self);
    assert.deepEqual(h.runner.runs[0]!.spec, { kind: 'ping', destination: '198.18.0.1', family: 4, protocol: 'icmp', dscp: 0, timeout: 2, count: 3, interval: 1, size: 56 });
    for (const token of [READ_TOKEN, WRITE_TOKEN, OPERATE_TOKEN]) {
      const got = await call(h, 'GET', b.links.self, { token });
      assert.equal(got.status, 200);
      assert.deepEqual((got.body as { state: string; spec: unknown }).state, 'running');
      const list = await call(h, 'GET', '/api/v1/operations', { token });
      const ops = (list.body as { operations: Record<string, unknown>[] }).operations;
      assert.deepEqual(Object.keys(ops[0]!).sort(), ['destination', 'endedMs', 'id', 'kind', 'origin', 'startedMs', 'state']);
      assert.equal(ops[0]!.origin, 'api');
    }
    assert.equal((await call(h, 'GET', b.links.self)).status, 401);
    const started = h.lines.find((l) => l.includes('operation started'))!;
    assert.ok(started.includes('api.tokens[2]') && started.includes('origin'), started);
    assert.ok(!h.lines.some((l) => l.includes(OPERATE_TOKEN)), 'the token is never logged');
    const del = await call(h, 'DELETE', b.links.self, { token: WRITE_TOKEN });
    assert.deepEqual([del.status, codeOf(del)], [403, 'API_ERR_FORBIDDEN'], 'cancel needs operate too');
    const cancel = await call(h, 'DELETE', b.links.self, { token: OPERATE_TOKEN });
    assert.deepEqual([cancel.status, (cancel.body as { state: string }).state], [202, 'running']);
    await h.service.operations.settled(b.id);
    assert.equal((await call(h, 'GET', b.links.self, { token: READ_TOKEN })).body !== undefined, true);
    const again = await call(h, 'DELETE', b.links.self, { token: OPERATE_TOKEN });
    assert.deepEqual([again.status, (again.body as { state: string }).state], [200, 'cancelled']);
  });

  void it('unknown operations are 404, wrong methods 405, and the target API still answers behind', async () => {
    assert.deepEqual(codeOf(await call(h, 'GET', '/api/v1/operations/nope', { token: READ_TOKEN })), 'API_ERR_NOT_FOUND');
    assert.deepEqual(codeOf(await call(h, 'GET', '/api/v1/operations/nope/events', { token: READ_TOKEN })), 'API_ERR_NOT_FOUND');
    const put = await call(h, 'PUT', '/api/v1/operations', { token: OPERATE_TOKEN, body: PING });
    assert.deepEqual([put.status, put.headers.get('allow')], [405, 'GET, HEAD, POST']);
    assert.equal((await call(h, 'GET', '/api/v1/targets', { token: READ_TOKEN })).status, 200);
    const doc = (await call(h, 'GET', '/api/v1/openapi.json')).body as { paths: Record<string, unknown> };
    assert.ok('/operations' in doc.paths && '/operations/{id}/events' in doc.paths);
  });
});

void describe('operations API: no token configured, not started', () => {
  void it('refuses operations with API_ERR_OPERATIONS_DISABLED and keeps reads open', async () => {
    const h = await startOps(`${BASE}\napi: {}\n${OPERATIONS}`);
    try {
      const r = await post(h, PING);
      assert.deepEqual([r.status, codeOf(r)], [403, 'API_ERR_OPERATIONS_DISABLED']);
      assert.equal((await call(h, 'GET', '/api/v1/operations')).status, 200);
      assert.match(await (await fetch(`${h.url}/metrics`)).text(), /wireprobe_operations_refused_total\{reason="auth"\} 1/);
    } finally {
      await h.close();
    }
  });

  void it('answers 503 before start', async () => {
    const h = await startOps(`${BASE}\n${TOKENS}\n${OPERATIONS}`, { start: false });
    try {
      const r = await post(h, PING);
      assert.deepEqual([r.status, codeOf(r)], [503, 'API_ERR_UNAVAILABLE']);
    } finally {
      await h.close();
    }
  });
});

void describe('operations API: limits', () => {
  let h: OpsHarness;
  before(async () => (h = await startOps(`${BASE}\n${TOKENS}\n${OPERATIONS}`)));
  after(() => h.close());

  void it('refuses too many probes (422), denied and unlisted destinations and names (403), unresolvable names (422)', async () => {
    const cases: [unknown, number, string][] = [
      [{ ...PING, count: 51 }, 422, 'OPS_ERR_BUDGET'],
      [{ kind: 'traceroute', destination: '198.18.0.1', maxHops: 30 }, 422, 'OPS_ERR_BUDGET'],
      [{ ...PING, destination: '198.18.66.7' }, 403, 'OPS_ERR_DENIED'],
      [{ ...PING, destination: '::ffff:198.18.66.7' }, 403, 'OPS_ERR_DENIED'],
      [{ ...PING, destination: '192.0.2.1' }, 403, 'OPS_ERR_DENIED'],
      [{ ...PING, destination: 'mgmt.test' }, 403, 'OPS_ERR_DENIED'],
    ];
    for (const [body, status, code] of cases) {
      const r = await post(h, body, OTHER_OPERATE_TOKEN);
      assert.deepEqual([r.status, codeOf(r)], [status, code], JSON.stringify(body));
      await h.clock.advance(10_000); // the rate refills: only the limit under test refuses
    }
    const nx = await post(h, { ...PING, destination: 'nx.test' }, OTHER_OPERATE_TOKEN);
    assert.deepEqual([nx.status, codeOf(nx)], [422, 'DNS_ERR_RESOLVE']);
    assert.equal(h.runner.runs.length, 0);
  });

  void it('refuses a third concurrent operation (429, Retry-After), then a rate beyond the burst (429, Retry-After)', async () => {
    await h.clock.advance(60_000);
    assert.equal((await post(h, PING)).status, 202);
    assert.equal((await post(h, PING)).status, 202);
    const busy = await post(h, PING);
    assert.deepEqual([busy.status, codeOf(busy), busy.headers.get('retry-after')], [429, 'OPS_ERR_BUSY', '1']);
    for (const r of h.runner.runs) r.finish(true);
    await h.clock.advance(0);
    assert.equal((await post(h, PING)).status, 202, 'the third token of the burst');
    h.runner.runs.at(-1)!.finish(true);
    await h.clock.advance(0);
    const rate = await post(h, PING);
    assert.deepEqual([rate.status, codeOf(rate), rate.headers.get('retry-after')], [429, 'OPS_ERR_RATE', '10']);
    assert.equal((await post(h, PING, OTHER_OPERATE_TOKEN)).status, 202, 'another token has its own bucket');
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    for (const line of [
      'wireprobe_operations_refused_total{reason="busy"} 1', 'wireprobe_operations_refused_total{reason="rate"} 1',
      'wireprobe_operations_refused_total{reason="denied"} 4', 'wireprobe_operations_refused_total{reason="packets"} 2',
      'wireprobe_operations_started_total{kind="ping"} 4', 'wireprobe_operations_finished_total{kind="ping",state="done"} 3',
      'wireprobe_operations_running 1',
    ]) assert.ok(metrics.includes(line), line);
  });
});

void describe('operations API: hostile requests', () => {
  let h: OpsHarness;
  before(async () => (h = await startOps(`${BASE}\n${TOKENS}\n${OPERATIONS.replace('max_concurrent: 2', 'max_concurrent: 256').replace('burst: 3', 'burst: 100')}`)));
  after(() => h.close());

  void it('never answers 5xx nor a non-JSON error, and nothing hostile reaches the runner', async () => {
    const json = { 'content-type': 'application/json', authorization: `Bearer ${OPERATE_TOKEN}` };
    const bodies = [
      '{', '{"kind":', 'nul', '"ping"', '[]', '1e999', '{"kind": "ping", "destination": "198.18.0.1", "count": 1e999}',
      '{"__proto__": {"kind": "ping"}}', '{"kind": "ping", "destination": "198.18.0.1", "constructor": {"prototype": {"x": 1}}}',
      JSON.stringify({ kind: 'ping', destination: '198.18.0.1', extra: 1 }), JSON.stringify({ kind: 'ping', destination: ['198.18.0.1'] }),
      JSON.stringify({ kind: 'ping', destination: '198.18.0.1; reboot' }), JSON.stringify({ kind: 'ping', destination: '$(id)' }),
      JSON.stringify({ kind: 'ping', destination: '-c 100000 198.18.0.1' }), JSON.stringify({ kind: 'ping', destination: '198.18.0.1', count: -1 }),
      JSON.stringify({ kind: 'ping', destination: '198.18.0.1', count: 2 ** 53 }), JSON.stringify({ kind: 'ping', destination: '198.18.0.1', interval: 0 }),
      JSON.stringify({ kind: 'mtr', destination: '198.18.0.1', cycles: 'many' }), JSON.stringify({ kind: 'traceroute', destination: '198.18.0.1', paths: null }),
      JSON.stringify({ kind: 'PING', destination: '198.18.0.1' }), JSON.stringify({ kind: 'ping', destination: 'a'.repeat(300) }),
      JSON.stringify({ kind: 'ping', destination: '198.18.0.1', source: '8.8.8.8' }), JSON.stringify({ kind: 'ping', destination: '198.18.0.1', dscp: 64 }),
      `${'['.repeat(20)}${']'.repeat(20)}`, `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`, JSON.stringify({ kind: 'ping', destination: '198.18.0.1', pad: 'x'.repeat(20_000) }),
    ];
    const requests: HostileRequest[] = [
      ...bodies.map((body) => ({ what: body.slice(0, 40), method: 'POST', path: '/api/v1/operations', headers: json, body })),
      ...['text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', ''].map((type) => ({
        what: `type ${type}`, method: 'POST', path: '/api/v1/operations', headers: { ...json, 'content-type': type }, body: JSON.stringify(PING),
      })),
      ...['/api/v1/operations/%zz', '/api/v1/operations/..%2f..%2fetc', `/api/v1/operations/${'x'.repeat(4000)}`, '/api/v1/operations/a/b/c', '/api/v1/operations/__proto__/events'].flatMap(
        (path) => ['GET', 'DELETE', 'PATCH', 'HEAD'].map((method) => ({ what: path.slice(0, 40), method, path, headers: json })),
      ),
      ...['', 'Bearer', `Bearer ${'x'.repeat(5000)}`, 'Basic dXNlcjpwYXNz'].map((auth) => ({
        what: `auth ${auth.slice(0, 10)}`, method: 'POST', path: '/api/v1/operations', headers: { ...json, authorization: auth }, body: JSON.stringify(PING),
      })),
    ];
    const replies = await sendAll(new URL(h.url), requests, 8);
    const problems = requests.map((q, i) => [q.what, replyProblem(q, replies[i]!)]).filter(([, p]) => p !== null);
    assert.deepEqual(problems, []);
    assert.equal(replies.filter((r) => r.status === 202).length, 0, JSON.stringify(replies.map((r) => r.status)));
    assert.equal(h.runner.runs.length, 0);
    const statuses = new Set(replies.map((r) => r.status));
    for (const s of [400, 401, 403, 404, 413, 415, 422]) assert.ok(statuses.has(s), `some ${s} in ${[...statuses].join(',')}`);
  });
});

void describe('operations API: event stream', () => {
  let h: OpsHarness;
  before(async () => (h = await startOps(`${BASE}\n${TOKENS}\n${OPERATIONS}`)));
  after(() => h.close());

  void it('streams live events in order, ends after done; a late subscriber gets the replay; Last-Event-ID resumes', async () => {
    const id = ((await post(h, PING)).body as { id: string }).id;
    const run = h.runner.runs[0]!;
    run.emit({ type: 'start', spec: run.spec, address: '198.18.0.1' });
    const s = await openStream(h, id);
    assert.equal(s.res.headers['content-type'], 'text/event-stream; charset=utf-8');
    await s.until(1);
    run.probe(0, 1.25);
    run.probe(1, null);
    await s.until(3);
    const pending = h.clock.pendingTimers;
    await h.clock.advance(1_000);
    assert.match(s.text, /: heartbeat\n\n/);
    run.probe(2, 2.5);
    run.finish(true);
    await s.ended;
    assert.deepEqual(s.events.map((e) => `${e.id} ${e.event}`), ['0 start', '1 probe', '2 probe', '3 probe', '4 done']);
    assert.deepEqual(s.events[1]!.data, { type: 'probe', reply: { seq: 0, from: '198.18.0.1', rttMs: 1.25, kind: 'reply' } });
    assert.equal((s.events[4]!.data.result as { received: number }).received, 2);
    assert.ok(h.clock.pendingTimers < pending, 'the heartbeat timer is gone with the stream');

    const late = await openStream(h, id);
    await late.ended;
    assert.deepEqual(late.events.map((e) => e.event), ['start', 'probe', 'probe', 'probe', 'done']);
    const resumed = await openStream(h, id, { 'last-event-id': '2' });
    await resumed.ended;
    assert.deepEqual(resumed.events.map((e) => e.id), ['3', '4']);
  });

  void it('a client that disconnects is cleaned up and the operation goes on', async () => {
    const id = ((await post(h, PING)).body as { id: string }).id;
    const run = h.runner.runs.at(-1)!;
    const before = h.clock.pendingTimers;
    const s = await openStream(h, id);
    run.probe(0, 1);
    await s.until(1);
    assert.equal(h.clock.pendingTimers, before + 1, 'a heartbeat timer for the stream');
    s.close();
    await s.ended;
    for (let i = 0; i < 50 && h.clock.pendingTimers > before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(h.clock.pendingTimers, before, 'heartbeat cancelled when the client left');
    run.probe(1, 1);
    run.finish(true);
    await h.service.operations.settled(id);
    assert.equal(((await call(h, 'GET', `/api/v1/operations/${id}`, { token: READ_TOKEN })).body as { events: unknown[] }).events.length, 3);
  });

  void it('DELETE cancels: the stream ends with what was gathered, state cancelled; after keep_for the operation is gone (404)', async () => {
    const id = ((await post(h, PING)).body as { id: string }).id;
    const run = h.runner.runs.at(-1)!;
    const s = await openStream(h, id);
    run.probe(0, 3);
    await s.until(1);
    assert.equal((await call(h, 'DELETE', `/api/v1/operations/${id}`, { token: OPERATE_TOKEN })).status, 202);
    await s.ended;
    assert.ok(run.signal.aborted);
    assert.deepEqual(s.events.map((e) => e.event), ['probe', 'done']);
    const got = (await call(h, 'GET', `/api/v1/operations/${id}`, { token: READ_TOKEN })).body as { state: string; result: { sent: number } };
    assert.deepEqual([got.state, got.result.sent], ['cancelled', 1]);
    await h.clock.advance(60_000);
    assert.equal((await call(h, 'GET', `/api/v1/operations/${id}`, { token: READ_TOKEN })).status, 404);
    assert.equal((await call(h, 'GET', `/api/v1/operations/${id}/events`, { token: READ_TOKEN })).status, 404);
  });

  void it('stopping the service closes open streams', async () => {
    const h2 = await startOps(`${BASE}\n${TOKENS}\n${OPERATIONS}`);
    const id = ((await post(h2, PING)).body as { id: string }).id;
    const s = await openStream(h2, id);
    await h2.close();
    await s.ended;
    assert.equal(s.events.at(-1)?.event, 'done', 'the operation was aborted and ended');
  });
});

void describe('operations API: reload', () => {
  void it('takes new limits and tokens at once; a config without operations: refuses new ones', async () => {
    const h = await startOps(`${BASE}\n${TOKENS}\n${OPERATIONS}`);
    try {
      assert.equal((await post(h, { ...PING, count: 60 })).status, 422);
      assert.equal(h.service.reload(parseConfig(`${BASE}\n${TOKENS}\n${OPERATIONS.replace('max_packets: 50', 'max_packets: 60')}`, 'ops-test.yaml').config), 'applied');
      assert.equal((await post(h, { ...PING, count: 60 })).status, 202);
      const fewer = TOKENS.split('\n').filter((l) => !l.includes(OPERATE_TOKEN)).join('\n');
      assert.equal(h.service.reload(parseConfig(`${BASE}\n${fewer}\n${OPERATIONS}`, 'ops-test.yaml').config), 'applied');
      assert.equal((await post(h, PING)).status, 401, 'a removed token is refused');
      assert.equal(h.service.reload(parseConfig(`${BASE}\n${fewer}\n${OPERATIONS}`, 'ops-test.yaml').config), 'unchanged');
      h.service.reload(parseConfig(`${BASE}\n${TOKENS}`, 'ops-test.yaml').config);
      const r = await post(h, PING);
      assert.deepEqual([r.status, codeOf(r)], [403, 'OPS_ERR_DISABLED']);
    } finally {
      await h.close();
    }
  });
});
