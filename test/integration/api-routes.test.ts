/** The /api/v1 routes on 127.0.0.1 port 0: every endpoint, every status and error code. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, codeOf, configText, startApi, TOKENS_API, WRITE_TOKEN, READ_TOKEN, type Harness } from './api-harness.js';
import { parseConfig } from '../../src/config/load.js';

const W = { token: WRITE_TOKEN };
const R = { token: READ_TOKEN };
const icmp = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  type: 'ICMPping',
  destination: '198.18.1.1',
  ...extra,
});

void describe('targets CRUD with tokens', () => {
  let h: Harness;
  before(async () => {
    h = await startApi(configText(`${TOKENS_API}\n  max_targets: 3`));
    h.sources.replace('inventory:dns', [
      { ...h.sources.config().targets.filet!, name: 'inv1', destination: '198.18.9.9' },
    ]);
  });
  after(() => h.close());

  void test('POST creates: 201, Location, stored view, handed to the prober', async () => {
    const r = await call(h, 'POST', '/api/v1/targets', { ...W, body: icmp('web1', { nb_packets: 3 }) });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), '/api/v1/targets/web1');
    const v = r.body as Record<string, unknown>;
    assert.equal(v.name, 'web1');
    assert.equal(v.origin, 'api');
    assert.equal(v.status, 'active');
    assert.deepEqual(v.groups, ['g1']);
    assert.equal((v.target as Record<string, unknown>).nb_packets, 3);
    assert.equal((v.target as Record<string, unknown>).timeout, 1);
    assert.deepEqual(v.entry, { type: 'ICMPping', destination: '198.18.1.1', nb_packets: 3 });
    assert.equal(v.expires_at, null);
    assert.deepEqual(h.sources.names('api'), ['web1']);
  });

  void test('GET lists every origin; filters by type, family, group, origin, name prefix, status', async () => {
    await call(h, 'POST', '/api/v1/targets', {
      ...W,
      body: { name: 'db6', type: 'TCPsyn', destination: '2001:db8::1', dst_port: 5432, explicit_groups: { register_to: ['g2'] } },
    });
    const names = async (q: string): Promise<string[]> => {
      const r = await call(h, 'GET', `/api/v1/targets${q}`, R);
      assert.equal(r.status, 200, q);
      return (r.body as { targets: { name: string }[] }).targets.map((t) => t.name);
    };
    assert.deepEqual(await names(''), ['db6', 'filet', 'inv1', 'web1']);
    assert.deepEqual(await names('?type=TCPsyn'), ['db6']);
    assert.deepEqual(await names('?address_family=ipv6'), ['db6']);
    assert.deepEqual(await names('?group=g2'), ['db6']);
    assert.deepEqual(await names('?origin=file'), ['filet']);
    assert.deepEqual(await names('?origin=inventory'), ['inv1']);
    assert.deepEqual(await names('?origin=inventory:dns'), ['inv1']);
    assert.deepEqual(await names('?origin=api&name=we'), ['web1']);
    assert.deepEqual(await names('?status=invalid'), []);
    const list = (await call(h, 'GET', '/api/v1/targets', R)).body as { targets: { name: string; origin: string }[] };
    assert.deepEqual(list.targets.map((t) => t.origin), ['api', 'file', 'inventory:dns', 'api']);
  });

  void test('GET with an unknown, repeated or out-of-range filter: 400', async () => {
    for (const q of ['?colour=red', '?type=a&type=b', '?type=HTTP', '?status=gone']) {
      const r = await call(h, 'GET', `/api/v1/targets${q}`, R);
      assert.equal(r.status, 400, q);
      assert.equal(codeOf(r), 'API_ERR_BAD_REQUEST');
    }
  });

  void test('GET one target of any origin; 404 with a code for an unknown one', async () => {
    const file = await call(h, 'GET', '/api/v1/targets/filet', R);
    assert.equal(file.status, 200);
    assert.equal((file.body as { origin: string }).origin, 'file');
    assert.equal(((await call(h, 'GET', '/api/v1/targets/inv1', R)).body as { origin: string }).origin, 'inventory:dns');
    const missing = await call(h, 'GET', '/api/v1/targets/nope', R);
    assert.equal(missing.status, 404);
    assert.equal(codeOf(missing), 'API_ERR_NOT_FOUND');
  });

  void test('POST of a taken name: 409 API_ERR_CONFLICT (API, file and inventory names)', async () => {
    for (const name of ['web1', 'filet', 'inv1']) {
      const r = await call(h, 'POST', '/api/v1/targets', { ...W, body: icmp(name) });
      assert.equal(r.status, 409, name);
      assert.equal(codeOf(r), 'API_ERR_CONFLICT');
    }
  });

  void test('PUT replaces (200) or creates (201); PATCH merges; max_targets: 409 API_ERR_LIMIT', async () => {
    const replaced = await call(h, 'PUT', '/api/v1/targets/web1', { ...W, body: { type: 'ICMPping', destination: '198.18.1.2' } });
    assert.equal(replaced.status, 200);
    assert.deepEqual((replaced.body as { entry: unknown }).entry, { type: 'ICMPping', destination: '198.18.1.2' });
    const created = await call(h, 'PUT', '/api/v1/targets/web2', { ...W, body: { name: 'web2', type: 'ICMPping', destination: '198.18.1.3' } });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), '/api/v1/targets/web2');
    const full = await call(h, 'PUT', '/api/v1/targets/web3', { ...W, body: { type: 'ICMPping', destination: '198.18.1.4' } });
    assert.equal(full.status, 409);
    assert.equal(codeOf(full), 'API_ERR_LIMIT');
    const patched = await call(h, 'PATCH', '/api/v1/targets/web2', {
      ...W,
      body: { nb_packets: 5, description: 'edge', threshold: { loss: 0.1 } },
      type: 'application/merge-patch+json',
    });
    assert.equal(patched.status, 200);
    const unset = await call(h, 'PATCH', '/api/v1/targets/web2', { ...W, body: { description: null } });
    assert.deepEqual((unset.body as { entry: unknown }).entry, {
      type: 'ICMPping',
      destination: '198.18.1.3',
      nb_packets: 5,
      threshold: { loss: 0.1 },
    });
    assert.equal(((unset.body as { target: { description: string } }).target).description, 'web2');
  });

  void test('PUT/PATCH/DELETE of a file or inventory target: 409 API_ERR_NOT_API_TARGET; unknown: 404', async () => {
    for (const [method, body] of [['PUT', { type: 'ICMPping', destination: '198.18.1.9' }], ['PATCH', { nb_packets: 2 }], ['DELETE', undefined]] as const) {
      for (const name of ['filet', 'inv1']) {
        const r = await call(h, method, `/api/v1/targets/${name}`, { ...W, body });
        assert.equal(r.status, 409, `${method} ${name}`);
        assert.equal(codeOf(r), 'API_ERR_NOT_API_TARGET');
      }
    }
    for (const method of ['PATCH', 'DELETE']) {
      const r = await call(h, method, '/api/v1/targets/ghost', { ...W, ...(method === 'PATCH' ? { body: {} } : {}) });
      assert.equal(r.status, 404, method);
      assert.equal(codeOf(r), 'API_ERR_NOT_FOUND');
    }
  });

  void test('DELETE: 204, gone from the list and from the prober', async () => {
    const r = await call(h, 'DELETE', '/api/v1/targets/web2', W);
    assert.equal(r.status, 204);
    assert.equal(r.body, '');
    assert.equal((await call(h, 'GET', '/api/v1/targets/web2', R)).status, 404);
    assert.deepEqual(h.sources.names('api'), ['db6', 'web1']);
  });

  void test('auth: 401 with WWW-Authenticate, 403 for a read token writing', async () => {
    const none = await call(h, 'GET', '/api/v1/targets');
    assert.equal(none.status, 401);
    assert.equal(codeOf(none), 'API_ERR_UNAUTHORIZED');
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="wireprobe"');
    for (const authorization of [`Bearer ${WRITE_TOKEN}x`, `Basic ${WRITE_TOKEN}`, 'Bearer', `Bearer ${READ_TOKEN.slice(1)}`]) {
      const bad = await call(h, 'GET', '/api/v1/targets', { headers: { authorization } });
      assert.equal(bad.status, 401, authorization);
      assert.match(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
    const scope = await call(h, 'DELETE', '/api/v1/targets/web1', R);
    assert.equal(scope.status, 403);
    assert.equal(codeOf(scope), 'API_ERR_FORBIDDEN');
    assert.match(scope.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    assert.equal((await call(h, 'GET', '/api/v1/targets', W)).status, 200, 'a write token reads too');
    assert.equal((await call(h, 'GET', '/api/v1/targets', { headers: { authorization: `bearer  ${READ_TOKEN}` } })).status, 200);
  });

  void test('unknown route: 404 JSON; wrong method: 405 with Allow', async () => {
    const r = await call(h, 'GET', '/api/v1/nothing', R);
    assert.equal(r.status, 404);
    assert.equal(codeOf(r), 'API_ERR_NOT_FOUND');
    const m = await call(h, 'DELETE', '/api/v1/targets', W);
    assert.equal(m.status, 405);
    assert.equal(codeOf(m), 'API_ERR_METHOD_NOT_ALLOWED');
    assert.equal(m.headers.get('allow'), 'GET, HEAD, POST');
  });

  void test('requests are counted by method, route template and code', async () => {
    const text = await h.registry.metrics();
    assert.match(text, /wireprobe_api_requests_total\{method="POST",route="\/api\/v1\/targets",code="201"\} \d/);
    assert.match(text, /wireprobe_api_requests_total\{method="DELETE",route="\/api\/v1\/targets\/:name",code="204"\} 1/);
    assert.match(text, /wireprobe_api_requests_total\{method="GET",route="unmatched",code="404"\} 1/);
    assert.doesNotMatch(text, /route="\/api\/v1\/targets\/web/);
    assert.match(text, /wireprobe_api_targets\{status="active"\} 2/);
  });
});

void describe('no token configured', () => {
  let h: Harness;
  before(async () => {
    h = await startApi(configText('api: {}'));
  });
  after(() => h.close());

  void test('reads are open, writes are refused with 403 API_ERR_WRITES_DISABLED', async () => {
    assert.equal((await call(h, 'GET', '/api/v1/targets')).status, 200);
    for (const [method, path] of [['POST', '/api/v1/targets'], ['PUT', '/api/v1/targets/x'], ['PATCH', '/api/v1/targets/x'], ['DELETE', '/api/v1/targets/x']] as const) {
      const r = await call(h, method, path, { body: icmp('x'), token: 'anything-at-all-1234' });
      assert.equal(r.status, 403, method);
      assert.equal(codeOf(r), 'API_ERR_WRITES_DISABLED');
    }
  });
});

void describe('default_groups, reload and invalid targets', () => {
  let h: Harness;
  const withGroups = (groups: string): string =>
    configText(`${TOKENS_API}\n  default_groups: [g2]`).replace('  g2: {permit_target_auto_register: false}', groups);
  before(async () => {
    h = await startApi(withGroups('  g2: {permit_target_auto_register: false}'));
  });
  after(() => h.close());

  void test('a target without explicit_groups joins default_groups only', async () => {
    const r = await call(h, 'POST', '/api/v1/targets', { ...W, body: icmp('dg') });
    assert.equal(r.status, 201);
    assert.deepEqual((r.body as { groups: string[] }).groups, ['g2']);
    const own = await call(h, 'POST', '/api/v1/targets', { ...W, body: icmp('own', { explicit_groups: { register_to: ['g1'] } }) });
    assert.deepEqual((own.body as { groups: string[] }).groups, ['g1']);
  });

  void test('unknown group or no group at all: 422 with paths', async () => {
    const r = await call(h, 'POST', '/api/v1/targets', { ...W, body: icmp('bad', { explicit_groups: { register_to: ['nope'] } }) });
    assert.equal(r.status, 422);
    assert.deepEqual((r.body as { error: { details: unknown } }).error.details, [
      { path: 'explicit_groups.register_to[0]', message: 'group "nope" does not exist' },
    ]);
  });

  void test('a reload that removes a group keeps its targets, invalid and not probed; restoring it revives them', async () => {
    const noG1 = withGroups('  g2: {permit_target_auto_register: false}').replace('  g1: {}\n', '');
    h.sources.reload(parseConfig(noG1, 'reload.yaml').config);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.sources.names('api'), ['dg']);
    const own = (await call(h, 'GET', '/api/v1/targets/own', R)).body as { status: string; problems: unknown[] };
    assert.equal(own.status, 'invalid');
    assert.equal(own.problems.length, 1);
    assert.ok(h.lines.some((l) => l.includes('level=warn') && l.includes('target=own')));
    const invalid = (await call(h, 'GET', '/api/v1/targets?status=invalid', R)).body as { targets: unknown[] };
    assert.equal(invalid.targets.length, 1);
    assert.match(await h.registry.metrics(), /wireprobe_api_targets\{status="invalid"\} 1/);
    h.sources.reload(parseConfig(withGroups('  g2: {permit_target_auto_register: false}'), 'reload.yaml').config);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.sources.names('api'), ['dg', 'own']);
  });

  void test('a reload that gives an API name to the file shows the API target as shadowed; it can still be deleted', async () => {
    const text = withGroups('  g2: {permit_target_auto_register: false}').replace('targets:\n', 'targets:\n  dg: {type: ICMPping, destination: 198.18.0.9}\n');
    h.sources.reload(parseConfig(text, 'reload.yaml').config);
    await new Promise((r) => setImmediate(r));
    const list = (await call(h, 'GET', '/api/v1/targets?name=dg', R)).body as { targets: { origin: string; status: string }[] };
    assert.deepEqual(list.targets.map((t) => `${t.origin}:${t.status}`), ['api:shadowed', 'file:active']);
    assert.equal((await call(h, 'DELETE', '/api/v1/targets/dg', W)).status, 204);
    assert.equal(((await call(h, 'GET', '/api/v1/targets/dg', R)).body as { origin: string }).origin, 'file');
  });
});

void describe('reload of the api settings', () => {
  void test('new tokens and limits apply at once; the old token is refused', async () => {
    const h = await startApi(configText(TOKENS_API));
    try {
      const rotated = configText(['api:', '  tokens:', '    - {token: rotated-token-0123456789, scope: write}', '  max_targets: 0'].join('\n'));
      h.sources.reload(parseConfig(rotated, 'reload.yaml').config);
      assert.equal((await call(h, 'GET', '/api/v1/targets', W)).status, 401);
      const r = await call(h, 'POST', '/api/v1/targets', { token: 'rotated-token-0123456789', body: icmp('late') });
      assert.equal(r.status, 409);
      assert.equal(codeOf(r), 'API_ERR_LIMIT');
    } finally {
      await h.close();
    }
  });
});
