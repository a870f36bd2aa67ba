// GET /api/v1/tools/*: read-scope auth, query checks, results and coded errors with their HTTP
// statuses, and the WHOIS/RDAP rate limit (429 with Retry-After), on an express app on port 0.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { toolsRoutes } from '../../../src/api/tools.js';
import { toolsDefaults } from '../../../src/config/tools-defaults.js';
import type { ApiToken, ToolsConfig } from '../../../src/config/types.js';
import { jsonErrorHandler } from '../../../src/http/errors.js';
import { createOuiLookup } from '../../../src/tools/oui.js';
import { createRateLimiter } from '../../../src/tools/rate-limit.js';
import { createRdapClient } from '../../../src/tools/rdap.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';

const READ = 'tools-read-token';
let tokens: readonly ApiToken[] = [{ token: READ, scope: 'read', source: 'test' }];
let base = '';
let http: Server;
const clock = new FakeClock();
const whoisServer = createServer({ allowHalfOpen: true }, (s) => {
  s.on('data', () => s.end('domain: EXAMPLE.TEST\r\n'));
});
let settings: ToolsConfig;

before(async () => {
  await new Promise<void>((resolve) => whoisServer.listen(0, '127.0.0.1', resolve));
  const d = toolsDefaults();
  settings = {
    ...d,
    whois: { ...d.whois, server: '127.0.0.1', port: (whoisServer.address() as AddressInfo).port },
    rate_limit: { per_minute: 2, concurrent: 1 },
    ipcalc: { max_subnets: 16, max_prefixes: 4 },
  };
  const r = express.Router();
  toolsRoutes(r, {
    tokens: () => tokens,
    settings: () => settings,
    oui: createOuiLookup(() => Promise.resolve('{"00000C": "Cisco Systems, Inc\\nSan Jose\\nUnited States"}')),
    rdap: createRdapClient(() => clock.wallMs()),
    limiter: createRateLimiter(() => clock.monoMs()),
  });
  const app = express();
  app.use('/api/v1', r);
  app.use(jsonErrorHandler(memoryLogger().log));
  http = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => http.once('listening', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/v1/tools`;
});

after(() => {
  http.closeAllConnections();
  http.close();
  whoisServer.close();
});

async function get(path: string, token: string | null = READ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}
const errCode = (b: Record<string, unknown>): unknown => (b['error'] as { code?: unknown } | undefined)?.code;

void describe('tools API', () => {
  void it('needs a read token when tokens are configured; open without tokens', async () => {
    assert.equal((await get('/ipcalc?prefix=10.0.0.0/8', null)).status, 401);
    assert.equal((await get('/ipcalc?prefix=10.0.0.0/8', 'wrong')).status, 401);
    tokens = [];
    assert.equal((await get('/ipcalc?prefix=10.0.0.0/8', null)).status, 200);
    tokens = [{ token: READ, scope: 'read', source: 'test' }];
  });

  void it('ipcalc: one prefix with contains and split; several summarised', async () => {
    const one = await get('/ipcalc?prefix=192.0.2.1/31&contains=192.0.2.0&split=32');
    assert.equal(one.status, 200);
    assert.deepEqual([(one.body['prefix'] as { usable: string }).usable, one.body['contains'], one.body['split']], [
      '2', { query: '192.0.2.0', result: true }, { prefix_length: 32, subnets: ['192.0.2.0/32', '192.0.2.1/32'] },
    ]);
    const many = await get('/ipcalc?prefix=10.0.0.0/25&prefix=10.0.0.128/25&prefix=2001:db8::/32');
    assert.deepEqual(many.body, { summary: ['10.0.0.0/24', '2001:db8::/32'] });
  });

  void it('ipcalc errors: bad prefix 400 TOOL_ERR_INPUT, bounds 422 TOOL_ERR_LIMIT, bad parameters 400 API_ERR_BAD_REQUEST', async () => {
    const cases: [string, number, string][] = [
      ['/ipcalc?prefix=10.0.0.0/33', 400, 'TOOL_ERR_INPUT'],
      ['/ipcalc?prefix=%3Cscript%3E', 400, 'TOOL_ERR_INPUT'],
      ['/ipcalc?prefix=10.0.0.0/8&split=24', 422, 'TOOL_ERR_LIMIT'],
      ['/ipcalc?prefix=1.0.0.0/8&prefix=2.0.0.0/8&prefix=3.0.0.0/8&prefix=4.0.0.0/8&prefix=5.0.0.0/8', 422, 'TOOL_ERR_LIMIT'],
      ['/ipcalc?prefix=10.0.0.0/8&split=x', 400, 'TOOL_ERR_INPUT'],
      ['/ipcalc', 400, 'API_ERR_BAD_REQUEST'],
      ['/ipcalc?prefix=10.0.0.0/8&colour=red', 400, 'API_ERR_BAD_REQUEST'],
      ['/ipcalc?prefix=10.0.0.0/8&split=9&split=10', 400, 'API_ERR_BAD_REQUEST'],
      ['/ipcalc?prefix[a]=1', 400, 'API_ERR_BAD_REQUEST'],
      ['/oui?mac=not-a-mac', 400, 'TOOL_ERR_INPUT'],
      ['/whois?query=a%20b', 400, 'TOOL_ERR_INPUT'],
      ['/rdap?query=', 400, 'API_ERR_BAD_REQUEST'],
    ];
    for (const [path, status, code] of cases) {
      const r = await get(path);
      assert.deepEqual([r.status, errCode(r.body)], [status, code], path);
    }
  });

  void it('oui answers the longest match', async () => {
    const r = await get('/oui?mac=00:00:0c:01:02:03');
    assert.deepEqual([r.status, r.body['organization'], r.body['block']], [200, 'Cisco Systems, Inc', 'MA-L']);
  });

  void it('whois through the configured server, then 429 with Retry-After past tools.rate_limit', async () => {
    const ok = await get('/whois?query=example.test');
    assert.equal(ok.status, 200);
    assert.match(((ok.body['answers'] as { text: string }[])[0]!).text, /EXAMPLE\.TEST/);
    const rdapDown = await get('/rdap?query=example.test');
    assert.ok(rdapDown.status === 502 || rdapDown.status === 504, `${rdapDown.status}`);
    const limited = await get('/whois?query=example.test');
    assert.deepEqual([limited.status, errCode(limited.body)], [429, 'TOOL_ERR_RATE_LIMIT']);
    assert.equal(limited.headers.get('retry-after'), '30');
    await clock.advance(30_000);
    assert.equal((await get('/whois?query=example.test')).status, 200);
  });
});
