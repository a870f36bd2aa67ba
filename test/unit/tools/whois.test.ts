// WHOIS against whois servers on loopback: the query line, referral following (IANA `refer:`, ARIN
// `ReferralServer: whois://`), loops, the referral bound, timeout, oversize answers, unreachable
// servers (a closed port, and the real default server on this host without internet: fast and clear).
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { toolsDefaults } from '../../../src/config/tools-defaults.js';
import { isAppError } from '../../../src/lib/errors.js';
import { whoisOptions } from '../../../src/tools/options.js';
import { classifyQuery } from '../../../src/tools/query.js';
import { referralOf, whois, type WhoisOptions } from '../../../src/tools/whois.js';

const code = (c: string) => (e: unknown): boolean => isAppError(e) && e.code === c;
const servers: Server[] = [];

/** A WHOIS server: reads one line, answers `answer(line)` (or nothing when null), then closes. */
async function whoisServer(answer: (line: string, socket: Socket) => string | null): Promise<{ port: number; lines: string[] }> {
  const lines: string[] = [];
  // half-open: a client's FIN (sent after its line) does not close the server's side
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const end = buf.indexOf('\r\n');
      if (end < 0) return;
      const line = buf.slice(0, end);
      lines.push(line);
      const text = answer(line, socket);
      if (text !== null) socket.end(text);
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, lines };
}

after(() => {
  for (const s of servers) {
    s.close();
  }
});

const opts = (port: number, extra: Partial<WhoisOptions> = {}): WhoisOptions => ({
  server: '127.0.0.1', port, timeoutMs: 2000, maxReferrals: 3, maxBytes: 65536, ...extra,
});

void describe('whois', () => {
  void it('follows an IANA-style `refer:` to the registry and returns both answers', async () => {
    const registry = await whoisServer((line) => `Domain Name: ${line.toUpperCase()}\r\nRegistrar: Example Registrar\r\n`);
    const iana = await whoisServer(() => `% IANA WHOIS server\r\nrefer:        whois.registry.test\r\n\r\ndomain:       EXAMPLE\r\n`);
    // the registry's name resolves to the loopback server here
    const hosts: string[] = [];
    const r = await whois(classifyQuery('Example.Test'), opts(iana.port), (host, port) => {
      hosts.push(`${host}:${port}`);
      return connect({ host: '127.0.0.1', port: host === 'whois.registry.test' ? registry.port : port });
    });
    assert.deepEqual(hosts, [`127.0.0.1:${iana.port}`, `whois.registry.test:${iana.port}`]);
    assert.deepEqual(iana.lines, ['example.test']);
    assert.deepEqual(registry.lines, ['example.test']);
    assert.deepEqual(r.answers.map((a) => a.server), ['127.0.0.1', 'whois.registry.test']);
    assert.match(r.answers[1]!.text, /Domain Name: EXAMPLE\.TEST/);
    assert.equal(r.referral_not_followed, null);
  });

  void it('follows `ReferralServer: whois://host:port`, sends ARIN its own syntax only to whois.arin.net, stops at a loop', async () => {
    const rir = await whoisServer((line) => `inetnum: 192.0.2.0 - 192.0.2.255\r\nquery: ${line}\r\n`);
    const first = await whoisServer(() => `NetRange: 192.0.0.0 - 192.255.255.255\r\nReferralServer: whois://127.0.0.1:${rir.port}\r\n`);
    const r = await whois(classifyQuery('192.0.2.10'), opts(first.port));
    assert.deepEqual([first.lines, rir.lines], [['192.0.2.10'], ['192.0.2.10']]);
    assert.equal(r.answers.length, 2);
    const loop = await whoisServer(() => `refer: 127.0.0.1\r\n`);
    const l = await whois(classifyQuery('AS64496'), opts(loop.port));
    assert.equal(l.answers.length, 1, 'a server referring to itself ends the chain');
    assert.deepEqual(loop.lines, ['AS64496']);
  });

  void it('stops after max_referrals and names the referral not followed', async () => {
    const chain: { port: number; lines: string[] }[] = [];
    for (let i = 0; i < 3; i++) {
      const next = chain.at(-1);
      chain.push(await whoisServer(() => (next === undefined ? 'no referral\r\n' : `ReferralServer: whois://127.0.0.1:${next.port}\r\n`)));
    }
    const r = await whois(classifyQuery('example.test'), opts(chain[2]!.port, { maxReferrals: 1 }));
    assert.equal(r.answers.length, 2);
    assert.equal(r.referral_not_followed, `127.0.0.1:${chain[0]!.port}`);
  });

  void it('a server that never answers fails with TOOL_ERR_TIMEOUT within the timeout', async () => {
    const silent = await whoisServer(() => null);
    const t0 = Date.now();
    await assert.rejects(whois(classifyQuery('example.test'), opts(silent.port, { timeoutMs: 300 })), code('TOOL_ERR_TIMEOUT'));
    assert.ok(Date.now() - t0 < 1500, `${Date.now() - t0} ms`);
  });

  void it('an answer above max_bytes fails with TOOL_ERR_TOO_LARGE', async () => {
    const big = await whoisServer(() => 'x'.repeat(5000));
    await assert.rejects(whois(classifyQuery('example.test'), opts(big.port, { maxBytes: 4096 })), code('TOOL_ERR_TOO_LARGE'));
  });

  void it('a closed port is TOOL_ERR_UNREACHABLE', async () => {
    const gone = await whoisServer(() => null);
    const server = servers.pop()!;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(whois(classifyQuery('example.test'), opts(gone.port)), (e: unknown) => code('TOOL_ERR_UNREACHABLE')(e) && /internet access/.test((e as Error).message));
  });

  void it('the default server (whois.iana.org) from this host without internet: TOOL_ERR_UNREACHABLE, fast, naming the server', async () => {
    const t0 = Date.now();
    await assert.rejects(whois(classifyQuery('example.com'), whoisOptions(toolsDefaults())), (e: unknown) => {
      assert.ok(code('TOOL_ERR_UNREACHABLE')(e) || code('TOOL_ERR_TIMEOUT')(e), String(e));
      assert.match((e as Error).message, /whois\.iana\.org:43/);
      return true;
    });
    assert.ok(Date.now() - t0 < 11_000, `${Date.now() - t0} ms`);
  });
});

void describe('referralOf', () => {
  void it('reads the referral forms and ignores rwhois and garbage', () => {
    assert.deepEqual(referralOf('refer:        whois.verisign-grs.com\n', 43), { host: 'whois.verisign-grs.com', port: 43 });
    assert.deepEqual(referralOf('   Registrar WHOIS Server: whois.markmonitor.com\r\n', 43), { host: 'whois.markmonitor.com', port: 43 });
    assert.deepEqual(referralOf('ReferralServer:  whois://whois.ripe.net\n', 43), { host: 'whois.ripe.net', port: 43 });
    assert.deepEqual(referralOf('ReferralServer: whois://whois.example.net:4343/\n', 43), { host: 'whois.example.net', port: 4343 });
    assert.equal(referralOf('ReferralServer: rwhois://rwhois.example.net:4321\n', 43), null);
    assert.equal(referralOf('refer: $(reboot)\n', 43), null);
    assert.equal(referralOf('nothing here\n', 43), null);
  });
});
