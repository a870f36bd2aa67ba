import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOfferCollector, evaluateOffers, MAX_TRACKED_SERVERS, type Offer, type OfferPolicy } from '../../../src/checks/dhcp-offers.js';
import type { CheckResult } from '../../../src/checks/types.js';
import { DLT_EN10MB } from '../../../src/packet/frame.js';
import { FIXTURE, withXid } from './dhcp-fixtures.js';

const policy = (over: Partial<OfferPolicy> = {}): OfferPolicy => ({
  iface: 'eth0',
  allowedServers: new Set(['198.18.200.1']),
  allowedMacs: new Set(),
  minServers: 1,
  maxReported: 16,
  ...over,
});

const offer = (serverId: string, sourceMac: string, tsNs = 2_000_000n): Offer => ({
  serverId, sourceIp: serverId, sourceMac, offeredAddress: '198.18.9.9', tsNs,
});

const values = (r: CheckResult, metric: string): number[] => r.samples.filter((s) => s.metric === metric).map((s) => s.value);

void test('the collector keeps the first offer per server for our xid and client, and stamps our DISCOVER', () => {
  const c = createOfferCollector(FIXTURE.xid, FIXTURE.probeMac);
  c.onFrame(1_000_000n, FIXTURE.discover, DLT_EN10MB);
  c.onFrame(1_400_000n, FIXTURE.offerA, DLT_EN10MB);
  c.onFrame(1_500_000n, FIXTURE.offerA, DLT_EN10MB); // a retransmission: ignored
  c.onFrame(1_600_000n, withXid(FIXTURE.offerB, 7), DLT_EN10MB); // another client's transaction
  c.onFrame(1_700_000n, FIXTURE.offerB, DLT_EN10MB);
  c.onFrame(1_800_000n, FIXTURE.offerB.subarray(0, 100), DLT_EN10MB); // truncated BOOTP
  assert.equal(c.discoverNs, 1_000_000n);
  assert.equal(c.malformed, 1);
  assert.deepEqual(c.offers, [
    { serverId: '198.18.200.1', sourceIp: '198.18.200.1', sourceMac: FIXTURE.macA, offeredAddress: '198.18.200.109', tsNs: 1_400_000n },
    { serverId: '198.18.201.1', sourceIp: '198.18.201.1', sourceMac: FIXTURE.macB, offeredAddress: '198.18.201.109', tsNs: 1_700_000n },
  ]);
});

void test('offers for another client hardware address are not ours', () => {
  const c = createOfferCollector(FIXTURE.xid, '02:00:00:00:00:01');
  c.onFrame(1n, FIXTURE.discover, DLT_EN10MB);
  c.onFrame(2n, FIXTURE.offerA, DLT_EN10MB);
  assert.deepEqual([c.discoverNs, c.offers.length], [null, 0]);
});

void test('an offer without option 54 is identified by its source address', () => {
  const frame = FIXTURE.offerA.slice();
  const opt54 = 42 + 240 + 3; // after option 53
  assert.equal(frame[opt54], 54);
  frame[opt54] = 254; // a private-use option instead
  const c = createOfferCollector(FIXTURE.xid, FIXTURE.probeMac);
  c.onFrame(1n, frame, DLT_EN10MB);
  assert.equal(c.offers[0]?.serverId, '198.18.200.1');
});

void test('a flood of forged offers is bounded', () => {
  const c = createOfferCollector(FIXTURE.xid, FIXTURE.probeMac);
  const frame = FIXTURE.offerB.slice();
  for (let i = 0; i < MAX_TRACKED_SERVERS + 50; i++) {
    frame[11] = i & 0xff; // source MAC, last byte
    frame[10] = i >> 8;
    c.onFrame(BigInt(i), frame, DLT_EN10MB);
  }
  assert.equal(c.offers.length, MAX_TRACKED_SERVERS);
});

void test('a rogue server fails the check; rogue servers are listed first', () => {
  const r = evaluateOffers([offer('198.18.200.1', FIXTURE.macA, 1_400_000n), offer('198.18.201.1', FIXTURE.macB, 1_700_000n)], 1_000_000n, policy());
  assert.deepEqual([r.ok, r.reason], [false, 'rogue_server']);
  assert.match(r.message ?? '', /198\.18\.201\.1 \(from 198\.18\.201\.1 8a:26:2a:54:c9:c4, offering 198\.18\.9\.9\)/);
  assert.deepEqual(values(r, 'wireprobe_dhcp_servers'), [2]);
  assert.deepEqual(values(r, 'wireprobe_dhcp_rogue_servers'), [1]);
  const info = r.samples.filter((s) => s.metric === 'wireprobe_dhcp_offer_info');
  assert.deepEqual(info.map((s) => [s.labels['server_id'], s.labels['allowed'], s.value]), [['198.18.201.1', 'false', 1], ['198.18.200.1', 'true', 1]]);
  const delays = r.samples.filter((s) => s.metric === 'wireprobe_dhcp_offer_delay_seconds');
  assert.deepEqual(delays.map((s) => [s.labels, s.value]), [
    [{ server_id: '198.18.201.1', source_mac: FIXTURE.macB }, 0.0007],
    [{ server_id: '198.18.200.1', source_mac: FIXTURE.macA }, 0.0004],
  ]);
});

void test('allowed by MAC, whatever the server identifier; the same identifier from another MAC is another server', () => {
  const r = evaluateOffers([offer('198.18.201.1', FIXTURE.macB), offer('198.18.200.1', FIXTURE.macA)], null, policy({ allowedServers: new Set(), allowedMacs: new Set([FIXTURE.macA, FIXTURE.macB]) }));
  assert.deepEqual([r.ok, r.reason], [true, undefined]);
  assert.deepEqual(values(r, 'wireprobe_dhcp_offer_delay_seconds'), [], 'no delay without our DISCOVER stamp');
  const spoof = evaluateOffers([offer('198.18.200.1', FIXTURE.macA), offer('198.18.200.1', '02:00:00:00:00:66')], null, policy({ allowedServers: new Set(), allowedMacs: new Set([FIXTURE.macA]) }));
  assert.deepEqual([spoof.reason, values(spoof, 'wireprobe_dhcp_servers'), values(spoof, 'wireprobe_dhcp_rogue_servers')], ['rogue_server', [2], [1]]);
});

void test('no offer, too few servers, and min_servers 0', () => {
  const none = evaluateOffers([], 1n, policy());
  assert.deepEqual([none.ok, none.reason], [false, 'no_offer']);
  assert.deepEqual(values(none, 'wireprobe_dhcp_servers'), [0]);
  assert.equal(evaluateOffers([], 1n, policy({ minServers: 0 })).ok, true);
  const few = evaluateOffers([offer('198.18.200.1', FIXTURE.macA)], 1n, policy({ minServers: 2 }));
  assert.deepEqual([few.ok, few.reason], [false, 'too_few_servers']);
});

void test('series are bounded by maxReported; the counts are not', () => {
  const offers = Array.from({ length: 40 }, (_, i) => offer(`198.18.7.${i + 1}`, `02:00:00:00:00:${(i + 16).toString(16)}`));
  const r = evaluateOffers(offers, 0n, policy({ maxReported: 3 }));
  assert.equal(r.samples.filter((s) => s.metric === 'wireprobe_dhcp_offer_info').length, 3);
  assert.equal(r.samples.filter((s) => s.metric === 'wireprobe_dhcp_offer_delay_seconds').length, 3);
  assert.deepEqual(values(r, 'wireprobe_dhcp_servers'), [40]);
  assert.deepEqual(values(r, 'wireprobe_dhcp_rogue_servers'), [40]);
  assert.match(r.message ?? '', /40 DHCP server\(s\) on eth0 not allowed: .* and 36 more$/);
});
