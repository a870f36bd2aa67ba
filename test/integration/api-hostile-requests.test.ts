/**
 * The real HTTP app (metrics, API, /-/reload) under hostile requests: a few hundred seeded
 * cases (hostile-requests.ts; bench/api-hostile.ts sends 10 000) answer no 5xx and always the
 * JSON error shape; bad percent-encoding is 400 before authentication; /-/reload follows the
 * API's token scopes and never shows an unauthenticated client the config's paths or values;
 * stalled headers and bodies are cut at the configured timeouts; connections are capped.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { READ_TOKEN, startApi, TOKENS_API, WRITE_TOKEN, type Harness } from './api-harness.js';
import { hostileRequests, replyProblem, send, sendAll, statusCounts, type HostileRequest } from './hostile-requests.js';

const SECRET_PATH = '/etc/wireprobe/secret-dir/wireprobe.yaml';
const REFUSAL = `${SECRET_PATH}:12:17: targets.web.nb_packets: must be <= 10000 (got 100000000000000000000)`;
const failingReload = (): Promise<{ ok: boolean; message: string }> => Promise.resolve({ ok: false, message: REFUSAL });

function config(global: string, api: string): string {
  return [
    `global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000${global}}`,
    'groups:',
    '  g1: {}',
    'targets:',
    '  filet: {type: ICMPping, destination: 198.18.0.1}',
    api,
  ].join('\n');
}

const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string): HostileRequest => ({
  what: `${method} ${path}`,
  method,
  path,
  headers,
  ...(body === undefined ? {} : { body }),
});
const codeOf = (text: string): string | undefined => (JSON.parse(text) as { error?: { code?: string } }).error?.code;
const W = { authorization: `Bearer ${WRITE_TOKEN}`, 'content-type': 'application/json' };

void describe('hostile requests against the HTTP app', () => {
  let h: Harness;
  let base: URL;
  before(async () => {
    h = await startApi(config('', `${TOKENS_API}\n  max_targets: 1000`), { reload: failingReload });
    base = new URL(h.url);
  });
  after(() => h.close());

  void test('400 seeded hostile requests, 8 at a time: no 5xx, every error is the JSON shape, nothing logged as an error', async () => {
    const requests = hostileRequests(400, 0x15, { read: READ_TOKEN, write: WRITE_TOKEN });
    const replies = await sendAll(base, requests, 8);
    const problems = requests.map((q, i) => [q, replyProblem(q, replies[i]!)] as const).filter(([, p]) => p !== null);
    assert.deepEqual(problems.map(([q, p]) => `${q.method} ${q.path.slice(0, 60)} (${q.what}): ${p}`), []);
    const counts = statusCounts(replies);
    assert.equal(Object.keys(counts).filter((s) => s.startsWith('5')).length, 0, JSON.stringify(counts));
    assert.ok((counts['201'] ?? 0) > 0 && (counts['400'] ?? 0) > 0 && (counts['404'] ?? 0) > 0 && (counts['422'] ?? 0) > 0, JSON.stringify(counts));
    assert.deepEqual(h.lines.filter((l) => /"level":"error"|request failed/.test(l)), []);
    assert.equal(({} as Record<string, unknown>).x, undefined, 'no prototype pollution');
    assert.equal((await send(base, req('GET', '/-/healthy'))).status, 200);
  });

  void test('a bad percent-encoding is 400 API_ERR_BAD_REQUEST on every method, before authentication', async () => {
    for (const bad of ['%', '%zz', '%FF', 'x%E0%A4%A', '%C0%AF']) {
      for (const method of ['GET', 'PUT', 'PATCH', 'DELETE', 'POST']) {
        for (const headers of [{}, W]) {
          const r = await send(base, req(method, `/api/v1/targets/${bad}`, headers));
          assert.equal(r.status, 400, `${method} ${bad}`);
          assert.equal(codeOf(r.text), 'API_ERR_BAD_REQUEST');
        }
      }
      const other = await send(base, req('GET', `/metrics/${bad}`));
      assert.equal(other.status, 400);
    }
  });

  void test('unknown paths, Swagger misses and wrong methods answer the JSON error shape', async () => {
    for (const path of ['/nope', '/api/v2/targets', '/api/v1/nope', '/api/ui/nope.js', '/-/nope']) {
      const r = await send(base, req('GET', path));
      assert.equal(r.status, 404, path);
      assert.match(r.contentType, /^application\/json/, path);
      assert.equal(codeOf(r.text), 'API_ERR_NOT_FOUND', path);
    }
    const get = await send(base, req('GET', '/-/reload'));
    assert.equal(get.status, 405);
    assert.equal(codeOf(get.text), 'API_ERR_METHOD_NOT_ALLOWED');
  });

  void test('charsets other than UTF-8 are 415; names . and .. are refused', async () => {
    for (const charset of ['utf-16', 'utf-16le', 'latin1', '"utf-32"']) {
      const r = await send(base, req('POST', '/api/v1/targets', { ...W, 'content-type': `application/json; charset=${charset}` }, '{"name": "c"}'));
      assert.equal(r.status, 415, charset);
      assert.equal(codeOf(r.text), 'API_ERR_UNSUPPORTED_MEDIA_TYPE');
    }
    const utf8 = await send(base, req('POST', '/api/v1/targets', { ...W, 'content-type': 'application/json; charset=UTF-8' }, JSON.stringify({ name: 'u8', type: 'ICMPping', destination: '198.18.9.9' })));
    assert.equal(utf8.status, 201);
    for (const name of ['.', '..']) {
      const r = await send(base, req('POST', '/api/v1/targets', W, JSON.stringify({ name, type: 'ICMPping', destination: '198.18.9.9' })));
      assert.equal(r.status, 422, name);
      assert.match(r.text, /cannot be used in a URL path/);
    }
  });

  void test('/-/reload with tokens configured: 401 without a token, 403 with a read token, details for a write token', async () => {
    const none = await send(base, req('POST', '/-/reload'));
    assert.equal(none.status, 401);
    assert.equal(codeOf(none.text), 'API_ERR_UNAUTHORIZED');
    const read = await send(base, req('POST', '/-/reload', { authorization: `Bearer ${READ_TOKEN}` }));
    assert.equal(read.status, 403);
    for (const r of [none, read]) assert.ok(!r.text.includes(SECRET_PATH) && !r.text.includes('nb_packets'), r.text);
    const write = await send(base, req('POST', '/-/reload', { authorization: `Bearer ${WRITE_TOKEN}` }));
    assert.equal(write.status, 422);
    assert.equal(codeOf(write.text), 'CFG_ERR_INVALID');
    assert.ok(write.text.includes('targets.web.nb_packets'), 'an authenticated client gets the details');
  });
});

void describe('the HTTP app without API tokens, with tight limits', () => {
  let h: Harness;
  let base: URL;
  before(async () => {
    h = await startApi(config(', http_header_timeout: 1, http_request_timeout: 2, http_max_connections: 4', 'api: {}'), { reload: failingReload });
    base = new URL(h.url);
  });
  after(() => h.close());

  void test('/-/reload without tokens stays open but never echoes the config path or values', async () => {
    const r = await send(base, req('POST', '/-/reload'));
    assert.equal(r.status, 422);
    assert.equal(codeOf(r.text), 'CFG_ERR_INVALID');
    assert.ok(!r.text.includes(SECRET_PATH) && !r.text.includes('nb_packets') && !r.text.includes('1000000'), r.text);
    assert.match(r.text, /details in the wireprobe log/);
  });

  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect(Number(base.port), base.hostname, () => resolve(s));
      s.on('error', reject);
    });
  const answer = (s: Socket): Promise<{ text: string; ms: number }> => {
    const start = Date.now();
    return new Promise((resolve) => {
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString('utf8')));
      s.on('error', () => undefined);
      s.on('close', () => resolve({ text, ms: Date.now() - start }));
    });
  };

  void test('stalled headers get 408 JSON after http_header_timeout; a stalled body after http_request_timeout', async () => {
    const headers = await open();
    const headersDone = answer(headers);
    headers.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    const a = await headersDone;
    assert.match(a.text, /^HTTP\/1\.1 408 /);
    assert.match(a.text, /"code":"API_ERR_TIMEOUT"/);
    assert.ok(a.ms >= 900 && a.ms < 3500, `${a.ms} ms`);

    const body = await open();
    const bodyDone = answer(body);
    body.write(`POST /api/v1/targets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name"`);
    const b = await bodyDone;
    assert.ok(b.ms >= 1900 && b.ms < 5000, `${b.ms} ms`);
    assert.match(b.text, /^$|^HTTP\/1\.1 (408|4\d\d) /);
  });

  void test('connections beyond http_max_connections are closed at once; the server keeps serving', async () => {
    const held = await Promise.all([open(), open(), open(), open()]);
    const extra = await open();
    const closed = await answer(extra);
    assert.equal(closed.text, '');
    assert.ok(closed.ms < 1000, `${closed.ms} ms`);
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await send(base, req('GET', '/-/healthy'))).status, 200);
  });
});
