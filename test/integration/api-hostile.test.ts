/**
 * Hostile requests: wrong types, huge and deeply nested bodies, unicode names, prototype keys,
 * wrong media types. Each gets a 4xx with a code; the server keeps serving; Object.prototype
 * stays untouched.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { call, codeOf, configText, startApi, TOKENS_API, WRITE_TOKEN, type Harness } from './api-harness.js';

const W = { token: WRITE_TOKEN };
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

interface Case {
  readonly what: string;
  readonly body: unknown;
  readonly status: number;
  readonly code: string;
  readonly type?: string;
}

const CASES: readonly Case[] = [
  { what: 'malformed JSON', body: '{"name": "x", ', status: 400, code: 'API_ERR_MALFORMED_JSON' },
  { what: 'a JSON string', body: '"ICMPping"', status: 400, code: 'API_ERR_MALFORMED_JSON' },
  { what: 'a JSON array', body: [1, 2], status: 422, code: 'API_ERR_VALIDATION' },
  { what: 'an empty body', body: '', status: 422, code: 'API_ERR_VALIDATION' },
  { what: 'wrong types', body: { name: 7, type: true, destination: [], nb_packets: '3', lifetime: 'forever' }, status: 422, code: 'API_ERR_VALIDATION' },
  { what: 'a unicode name', body: { name: 'wéb☃', type: 'ICMPping', destination: '198.18.1.1' }, status: 422, code: 'API_ERR_VALIDATION' },
  { what: 'a name with a NUL', body: { name: 'a\u0000b', type: 'ICMPping', destination: '198.18.1.1' }, status: 422, code: 'API_ERR_VALIDATION' },
  { what: 'a long name', body: { name: 'a'.repeat(129), type: 'ICMPping', destination: '198.18.1.1' }, status: 422, code: 'API_ERR_VALIDATION' },
  { what: 'a prototype key as the name', body: '{"name": "__proto__", "type": "ICMPping", "destination": "198.18.1.1"}', status: 422, code: 'API_ERR_VALIDATION' },
  { what: 'an unknown key', body: { name: 'x', type: 'ICMPping', destination: '198.18.1.1', colour: 'red' }, status: 422, code: 'API_ERR_VALIDATION' },
  { what: 'a unicode destination', body: { name: 'x', type: 'ICMPping', destination: 'ex\u0430mple.com' }, status: 422, code: 'API_ERR_VALIDATION' },
  { what: '__proto__ at the top', body: '{"__proto__": {"polluted": 1}, "name": "x", "type": "ICMPping", "destination": "198.18.1.1"}', status: 422, code: 'API_ERR_VALIDATION' },
  { what: '__proto__ inside', body: '{"name": "x", "type": "ICMPping", "destination": "198.18.1.1", "threshold": {"__proto__": {"polluted": 1}}}', status: 422, code: 'API_ERR_VALIDATION' },
  { what: 'constructor.prototype', body: '{"name": "x", "type": "ICMPping", "destination": "198.18.1.1", "constructor": {"prototype": {"polluted": 1}}}', status: 422, code: 'API_ERR_VALIDATION' },
  { what: 'deep nesting', body: `{"name": "x", "threshold": ${'['.repeat(5000)}${']'.repeat(5000)}}`, status: 400, code: 'API_ERR_BAD_REQUEST' },
  { what: 'very deep nesting', body: `${'['.repeat(30000)}${']'.repeat(30000)}`, status: 400, code: 'API_ERR_BAD_REQUEST' },
  { what: 'too large', body: JSON.stringify({ name: 'x', description: 'y'.repeat(70_000) }), status: 413, code: 'API_ERR_BODY_TOO_LARGE' },
  { what: 'text/plain', body: '{"name": "x"}', type: 'text/plain', status: 415, code: 'API_ERR_UNSUPPORTED_MEDIA_TYPE' },
  { what: 'form data', body: 'name=x', type: 'application/x-www-form-urlencoded', status: 415, code: 'API_ERR_UNSUPPORTED_MEDIA_TYPE' },
  { what: 'latin1 JSON', body: '{"name": "x"}', type: 'application/json; charset=latin1', status: 415, code: 'API_ERR_UNSUPPORTED_MEDIA_TYPE' },
  { what: 'a huge lifetime', body: { name: 'x', type: 'ICMPping', destination: '198.18.1.1', lifetime: 1e300 }, status: 422, code: 'API_ERR_VALIDATION' },
  { what: 'a negative lifetime', body: { name: 'x', type: 'ICMPping', destination: '198.18.1.1', lifetime: -1 }, status: 422, code: 'API_ERR_VALIDATION' },
];

void describe('hostile bodies', () => {
  let h: Harness;
  before(async () => {
    h = await startApi(configText(TOKENS_API));
  });
  after(() => h.close());

  for (const c of CASES) {
    void test(`${c.what}: ${c.status} ${c.code} on POST and PUT`, async () => {
      for (const [method, path] of [['POST', '/api/v1/targets'], ['PUT', '/api/v1/targets/x']] as const) {
        const r = await call(h, method, path, { ...W, body: c.body, ...(c.type === undefined ? {} : { type: c.type }) });
        assert.equal(r.status, c.status, `${method}: ${JSON.stringify(r.body)}`);
        assert.equal(codeOf(r), c.code);
        assert.ok(r.headers.get('content-type')?.startsWith('application/json'));
      }
      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO_KEYS);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }

  void test('validation errors list every problem with its path', async () => {
    const r = await call(h, 'POST', '/api/v1/targets', {
      ...W,
      body: { name: 'Bad Name', type: 'TCPsyn', destination: '198.18.1.1', nb_packets: 0, lifetime: 1.5 },
    });
    assert.equal(r.status, 422);
    const details = (r.body as { error: { details: { path: string }[] } }).error.details;
    assert.deepEqual(details.map((d) => d.path).sort(), ['', 'lifetime', 'name', 'nb_packets']);
  });

  void test('a PATCH with __proto__ cannot pollute through the merge', async () => {
    assert.equal((await call(h, 'POST', '/api/v1/targets', { ...W, body: { name: 'p', type: 'ICMPping', destination: '198.18.1.1' } })).status, 201);
    const r = await call(h, 'PATCH', '/api/v1/targets/p', { ...W, body: '{"threshold": {"__proto__": {"polluted": 1}}}' });
    assert.equal(r.status, 422);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO_KEYS);
  });

  void test('a Content-Length above the limit is refused before the body is read', async () => {
    const { port } = new URL(h.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: Number(port),
        method: 'POST',
        path: '/api/v1/targets',
        headers: { 'content-type': 'application/json', 'content-length': String(1 << 30), authorization: `Bearer ${WRITE_TOKEN}` },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"name": ');
    });
    assert.equal(status, 413);
  });

  void test('still serving after all that', async () => {
    const r = await call(h, 'GET', '/api/v1/targets', W);
    assert.equal(r.status, 200);
    assert.deepEqual((r.body as { targets: { name: string }[] }).targets.map((t) => t.name), ['filet', 'p']);
  });
});
