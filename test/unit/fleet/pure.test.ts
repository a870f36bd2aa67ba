/** The fleet's pure parts: selectors, the member policy, operation requests, the wire format, service discovery, the shared-inventory share. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memberDeadlineMs } from '../../../src/fleet/dispatch.js';
import { shareOf } from '../../../src/fleet/inventory-source.js';
import { createPolicy } from '../../../src/fleet/policy.js';
import { decode, encode, isLive, MAX_MESSAGE_BYTES, parseMember, parseReply, parseRequest, type MemberRecord } from '../../../src/fleet/protocol.js';
import { serviceDiscovery } from '../../../src/fleet/sd.js';
import { formatSelector, parseSelector, selects } from '../../../src/fleet/selector.js';
import { metricsAddress, selectMembers } from '../../../src/fleet/service.js';
import { parseOperation } from '../../../src/fleet/spec.js';
import { isAppError } from '../../../src/lib/errors.js';
import type { Config } from '../../../src/config/types.js';

const member = (name: string, labels: Record<string, string>, heartbeatMs: number, metrics = `${name}:9771`): MemberRecord => ({
  name, labels: { ...labels, name }, version: '1.0', metrics, heartbeatMs, heartbeatS: 1, goneAfterS: 5, startedMs: 0, operations: ['check'],
});

void describe('selectors', () => {
  void it('parses pairs and matches all of them', () => {
    const s = parseSelector(' site=par, region=eu ');
    assert.equal(formatSelector(s), 'site=par,region=eu');
    assert.equal(selects(s, { site: 'par', region: 'eu', rack: '1' }), true);
    assert.equal(selects(s, { site: 'par' }), false);
    assert.equal(selects(s, { site: 'lon', region: 'eu' }), false);
  });
  void it('empty and * select everyone', () => {
    assert.equal(formatSelector(parseSelector('')), '*');
    assert.equal(selects(parseSelector('*'), {}), true);
  });
  void it('refuses malformed pairs with FLEET_ERR_SELECTOR', () => {
    for (const bad of ['site', 'Site=par', 'site=', 'site=p ar', '=par', `${'a=b,'.repeat(33)}a=b`, 'site=par;rm']) {
      assert.throws(() => parseSelector(bad), (e) => isAppError(e, 'FLEET_ERR_SELECTOR'), bad);
    }
  });
  void it('does not match inherited properties', () => {
    assert.equal(selects(parseSelector('constructor=x'), {}), false);
  });
  void it('selectMembers keeps the live members a selector matches, by name too', () => {
    const all = [member('a', { site: 'par' }, 10_000), member('b', { site: 'par' }, 1_000), member('c', { site: 'lon' }, 10_000)];
    assert.deepEqual(selectMembers(all, parseSelector('site=par'), 12_000).map((m) => m.name), ['a']);
    assert.deepEqual(selectMembers(all, parseSelector('name=c'), 12_000).map((m) => m.name), ['c']);
  });
});

void describe('member policy', () => {
  const policy = createPolicy({ operations: ['ping', 'traceroute', 'check'], destinations: ['198.18.0.0/15', '2001:db8::/32'] });
  void it('allows listed kinds to destinations inside the prefixes', () => {
    assert.equal(policy.refusal('ping', '198.19.255.255'), null);
    assert.equal(policy.refusal('traceroute', '2001:db8:ffff::1'), null);
    assert.equal(policy.refusal('check', null), null);
  });
  void it('refuses other kinds, addresses outside, and names', () => {
    assert.match(policy.refusal('mtr', '198.18.0.1') ?? '', /does not run mtr/);
    assert.match(policy.refusal('ping', '198.20.0.1') ?? '', /outside/);
    assert.match(policy.refusal('ping', '2001:db9::1') ?? '', /outside/);
    assert.match(policy.refusal('ping', 'example.com') ?? '', /not an address literal/);
    assert.match(policy.refusal('ping', '::ffff:198.18.0.1') ?? '', /outside/);
  });
  void it('allows nothing by default', () => {
    const none = createPolicy({ operations: [], destinations: [] });
    assert.match(none.refusal('check', null) ?? '', /none/);
    assert.match(createPolicy({ operations: ['ping'], destinations: [] }).refusal('ping', '198.18.0.1') ?? '', /outside/);
  });
  void it('handles prefix lengths that are not byte aligned and /0', () => {
    const p = createPolicy({ operations: ['ping'], destinations: ['10.0.0.0/9', '::/0'] });
    assert.equal(p.refusal('ping', '10.127.255.255'), null);
    assert.notEqual(p.refusal('ping', '10.128.0.0'), null);
    assert.equal(p.refusal('ping', '2a00::1'), null);
  });
});

void describe('operation requests', () => {
  void it('fill defaults', () => {
    assert.deepEqual(parseOperation({ kind: 'traceroute', destination: '198.18.0.1' }), {
      kind: 'traceroute',
      spec: { kind: 'traceroute', destination: '198.18.0.1', protocol: 'icmp', size: 56, dscp: 0, timeout: 1, maxHops: 30, queries: 3, paths: 1, resolve: false, asn: false },
    });
    const ping = parseOperation({ kind: 'ping', spec: { destination: '::1', protocol: 'tcp', port: 443, count: 3, family: 6 } });
    assert.equal(ping.kind === 'ping' && ping.spec.kind === 'ping' ? `${ping.spec.count} ${ping.spec.port} ${ping.spec.family}` : '', '3 443 6');
    assert.deepEqual(parseOperation({ kind: 'check', check: 'routes', name: 'default' }), { kind: 'check', check: 'routes', name: 'default' });
  });
  void it('refuse out-of-bound and malformed values with FLEET_ERR_REQUEST', () => {
    const bad: unknown[] = [
      null, [], { kind: 'scan' }, { kind: 'ping' }, { kind: 'ping', destination: '' }, { kind: 'ping', destination: 'x'.repeat(254) },
      { kind: 'ping', destination: 'a', count: 1001 }, { kind: 'ping', destination: 'a', count: 1.5 }, { kind: 'ping', destination: 'a', interval: 0 },
      { kind: 'ping', destination: 'a', protocol: 'sctp' }, { kind: 'ping', destination: 'a', family: 5 }, { kind: 'mtr', destination: 'a', cycles: 0 },
      { kind: 'traceroute', destination: 'a', maxHops: 65 }, { kind: 'traceroute', destination: 'a', resolve: 'yes' }, { kind: 'ping', destination: 'a', port: 0 },
      { kind: 'ping', destination: 'a', size: Number.NaN }, { kind: 'check', check: 'shell', name: 'x' }, { kind: 'check', check: 'routes', name: 'Bad Name' },
    ];
    for (const b of bad) assert.throws(() => parseOperation(b), (e) => isAppError(e, 'FLEET_ERR_REQUEST'), JSON.stringify(b));
  });
});

void describe('wire format', () => {
  void it('round-trips a request and bounds its deadline', () => {
    const req = { id: 'x1', origin: 'm0/cli', deadlineMs: 5000, operation: { kind: 'check', check: 'routes', name: 'r' } };
    assert.deepEqual(parseRequest(decode(encode(req))), req);
    assert.equal(parseRequest({ ...req, deadlineMs: 0 }), null);
    assert.equal(parseRequest({ ...req, deadlineMs: 3_600_001 }), null);
    assert.equal(parseRequest({ ...req, id: '' }), null);
    assert.throws(() => parseRequest({ ...req, operation: { kind: 'exec' } }), (e) => isAppError(e, 'FLEET_ERR_REQUEST'));
  });
  void it('decodes only bounded JSON', () => {
    assert.equal(decode(new TextEncoder().encode('{nope')), null);
    assert.equal(decode(new Uint8Array(MAX_MESSAGE_BYTES + 1)), null);
  });
  void it('parses replies and members, dropping malformed ones', () => {
    assert.deepEqual(parseReply({ id: 'i', member: 'm', type: 'refused', code: 'FLEET_ERR_REFUSED', message: 'no' }), { id: 'i', member: 'm', type: 'refused', code: 'FLEET_ERR_REFUSED', message: 'no' });
    assert.equal(parseReply({ id: 'i', member: 'm', type: 'event' }), null);
    assert.equal(parseReply({ id: 'i', member: 'm', type: 'other' }), null);
    const m = member('a', { site: 'par' }, 1000);
    assert.deepEqual(parseMember(JSON.parse(JSON.stringify(m))), m);
    assert.equal(parseMember({ name: 'a' }), null);
    assert.deepEqual(parseMember({ ...m, labels: { site: 1, ok: 'y' } })?.labels, { ok: 'y' });
  });
  void it('a member is live until its own gone_after passes', () => {
    const m = member('a', {}, 1000);
    assert.equal(isLive(m, 6000), true);
    assert.equal(isLive(m, 6001), false);
  });
  void it('members get a shorter deadline than the dispatcher waits', () => {
    assert.equal(memberDeadlineMs(30_000), 29_000);
    assert.equal(memberDeadlineMs(3000), 2700);
  });
});

void describe('service discovery and the shared inventory share', () => {
  void it('lists live members with a metrics address, their labels and meta labels', () => {
    const groups = serviceDiscovery([member('b', { site: 'par' }, 10_000), member('a', { site: 'lon' }, 10_000), member('gone', {}, 0), member('nometrics', {}, 10_000, '')], 11_000);
    assert.deepEqual(groups, [
      { targets: ['a:9771'], labels: { site: 'lon', __meta_wireprobe_member: 'a', __meta_wireprobe_version: '1.0' } },
      { targets: ['b:9771'], labels: { site: 'par', __meta_wireprobe_member: 'b', __meta_wireprobe_version: '1.0' } },
    ]);
  });
  void it('the metrics address comes from fleet.metrics_url, else the listener (wildcards: the host name)', () => {
    const cfg = (address: string, url: string | null): Config => ({ global: { prometheus_address: address, prometheus_port: 9771 }, fleet: { metrics_url: url } }) as unknown as Config;
    assert.equal(metricsAddress(cfg('198.18.0.2', null), 'h'), '198.18.0.2:9771');
    assert.equal(metricsAddress(cfg('0.0.0.0', null), 'h'), 'h:9771');
    assert.equal(metricsAddress(cfg('2001:db8::2', null), 'h'), '[2001:db8::2]:9771');
    assert.equal(metricsAddress(cfg('0.0.0.0', 'probe.example:80'), 'h'), 'probe.example:80');
  });
  void it('a member takes the entries whose selector matches its labels', () => {
    const labels = { site: 'par', name: 'm0' };
    assert.deepEqual(shareOf({ select: 'site=par', target: { hostname: 't' } }, labels), { hostname: 't' });
    assert.equal(shareOf({ select: 'site=lon', target: { hostname: 't' } }, labels), null);
    assert.deepEqual(shareOf({ select: 'name=m0', target: { hostname: 't' } }, labels), { hostname: 't' });
    assert.equal(shareOf({ select: 'bad selector', target: {} }, labels), null);
    assert.equal(shareOf({ target: {} }, labels), null);
    assert.equal(shareOf('text', labels), null);
  });
});
