// RDAP against an HTTP server on loopback: bootstrap (dns, ipv4, ipv6, asn) and the object, the
// bootstrap cache, redirects and their bound, 404, HTTP errors, non-RDAP bodies, oversize bodies,
// timeout, and unreachable servers (a closed port; the real IANA bootstrap from this host).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { toolsDefaults } from '../../../src/config/tools-defaults.js';
import { isAppError } from '../../../src/lib/errors.js';
import { rdapOptions } from '../../../src/tools/options.js';
import { classifyQuery } from '../../../src/tools/query.js';
import { createRdapClient, selectServers, type RdapOptions } from '../../../src/tools/rdap.js';

const code = (c: string) => (e: unknown): boolean => isAppError(e) && e.code === c;

let server: Server;
let base = '';
const requests: string[] = [];
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
const json = (body: unknown, status = 200): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/rdap+json' }).end(JSON.stringify(body));
};

before(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const h = routes.get(req.url ?? '');
    if (h === undefined) res.writeHead(404).end('{}');
    else h(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rdap = `${base}/rdap/`;
  routes.set('/bootstrap/dns.json', json({ version: '1.0', services: [[['test'], [rdap]], [['example.test'], [`${base}/deeper/`]]] }));
  routes.set('/bootstrap/ipv4.json', json({ services: [[['192.0.0.0/8'], [rdap]], [['198.18.0.0/15'], ['https://tls-only.invalid/', rdap]]] }));
  routes.set('/bootstrap/ipv6.json', json({ services: [[['2001:db8::/32'], [rdap]]] }));
  routes.set('/bootstrap/asn.json', json({ services: [[['64496-64511'], [rdap]]] }));
  routes.set('/deeper/domain/www.example.test', json({ objectClassName: 'domain', ldhName: 'www.example.test', handle: 'D1' }));
  routes.set('/rdap/domain/other.test', json({ objectClassName: 'domain', ldhName: 'other.test' }));
  routes.set('/rdap/ip/192.0.2.0/24', json({ objectClassName: 'ip network', startAddress: '192.0.2.0', endAddress: '192.0.2.255' }));
  routes.set('/rdap/ip/2001:db8::1', json({ objectClassName: 'ip network', handle: 'V6' }));
  routes.set('/rdap/autnum/64500', (_req, res) => res.writeHead(302, { location: '/rdap/autnum-moved/64500' }).end());
  routes.set('/rdap/autnum-moved/64500', json({ objectClassName: 'autnum', startAutnum: 64496, endAutnum: 64511 }));
  routes.set('/rdap/autnum/64501', (_req, res) => res.writeHead(301, { location: '/rdap/autnum/64501' }).end());
  routes.set('/rdap/domain/broken.test', json({ error: 'boom' }, 500));
  routes.set('/rdap/domain/notrdap.test', json([1, 2, 3]));
  routes.set('/rdap/domain/html.test', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'));
  routes.set('/rdap/domain/huge.test', (_req, res) => {
    res.writeHead(200);
    res.write('{"objectClassName":"domain","pad":"');
    res.end(`${'x'.repeat(200_000)}"}`);
  });
  routes.set('/rdap/domain/slow.test', () => undefined);
});

after(() => {
  server.closeAllConnections();
  server.close();
});

const opts = (extra: Partial<RdapOptions> = {}): RdapOptions => ({
  bootstrapUrl: `${base}/bootstrap/`, bootstrapTtlMs: 60_000, timeoutMs: 2000, maxRedirects: 3, maxBytes: 65536, ...extra,
});

void describe('RDAP client', () => {
  void it('domains: the longest bootstrap match wins; the bootstrap is fetched once per TTL', async () => {
    let now = 0;
    const c = createRdapClient(() => now);
    requests.length = 0;
    const r = await c.query(classifyQuery('WWW.example.test'), opts());
    assert.deepEqual([r.url, r.data['handle'], r.kind], [`${base}/deeper/domain/www.example.test`, 'D1', 'domain']);
    await c.query(classifyQuery('other.test'), opts());
    assert.deepEqual(requests, ['/bootstrap/dns.json', '/deeper/domain/www.example.test', '/rdap/domain/other.test']);
    now = 60_001;
    await c.query(classifyQuery('other.test'), opts());
    assert.equal(requests.filter((u) => u === '/bootstrap/dns.json').length, 2);
  });

  void it('addresses and prefixes (IPv4, IPv6) and AS numbers, following a redirect', async () => {
    const c = createRdapClient(() => 0);
    assert.equal((await c.query(classifyQuery('192.0.2.9/24'), opts())).data['startAddress'], '192.0.2.0');
    assert.equal((await c.query(classifyQuery('2001:DB8::1'), opts())).data['handle'], 'V6');
    const as = await c.query(classifyQuery('AS64500'), opts());
    assert.deepEqual([as.url, as.data['objectClassName']], [`${base}/rdap/autnum-moved/64500`, 'autnum']);
  });

  void it('no bootstrap entry or no object: TOOL_ERR_NOT_FOUND', async () => {
    const c = createRdapClient(() => 0);
    await assert.rejects(c.query(classifyQuery('example.org'), opts()), code('TOOL_ERR_NOT_FOUND'));
    await assert.rejects(c.query(classifyQuery('AS1'), opts()), code('TOOL_ERR_NOT_FOUND'));
    await assert.rejects(c.query(classifyQuery('missing.test'), opts()), code('TOOL_ERR_NOT_FOUND'));
  });

  void it('unusable answers: TOOL_ERR_UPSTREAM (HTTP error, not an RDAP object, not JSON, redirect loop)', async () => {
    const c = createRdapClient(() => 0);
    for (const q of ['broken.test', 'notrdap.test', 'html.test', 'AS64501']) {
      await assert.rejects(c.query(classifyQuery(q), opts()), code('TOOL_ERR_UPSTREAM'), q);
    }
  });

  void it('bounded: a body above max_bytes is TOOL_ERR_TOO_LARGE, a silent server TOOL_ERR_TIMEOUT in time', async () => {
    const c = createRdapClient(() => 0);
    await assert.rejects(c.query(classifyQuery('huge.test'), opts()), code('TOOL_ERR_TOO_LARGE'));
    const t0 = Date.now();
    await assert.rejects(c.query(classifyQuery('slow.test'), opts({ timeoutMs: 300 })), code('TOOL_ERR_TIMEOUT'));
    assert.ok(Date.now() - t0 < 1500, `${Date.now() - t0} ms`);
  });

  void it('a closed port is TOOL_ERR_UNREACHABLE; so is the real IANA bootstrap from this host without internet, fast', async () => {
    const c = createRdapClient(() => 0);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(c.query(classifyQuery('example.test'), opts({ bootstrapUrl: `http://127.0.0.1:${port}/` })), code('TOOL_ERR_UNREACHABLE'));
    const t0 = Date.now();
    await assert.rejects(c.query(classifyQuery('example.com'), rdapOptions(toolsDefaults())), (e: unknown) => {
      assert.ok(code('TOOL_ERR_UNREACHABLE')(e) || code('TOOL_ERR_TIMEOUT')(e), String(e));
      assert.match((e as Error).message, /data\.iana\.org/);
      return true;
    });
    assert.ok(Date.now() - t0 < 11_000, `${Date.now() - t0} ms`);
  });
});

void it('selectServers prefers https and the most specific IP block', () => {
  const services = [[['198.0.0.0/8'], ['http://a/']], [['198.18.0.0/15'], ['http://b/', 'https://b/']]] as const;
  assert.deepEqual(selectServers('ipv4', services, classifyQuery('198.18.0.1')), ['https://b/', 'http://b/']);
  assert.deepEqual(selectServers('ipv4', services, classifyQuery('198.1.0.1')), ['http://a/']);
  assert.deepEqual(selectServers('ipv4', services, classifyQuery('198.0.0.0/7')), []);
});
