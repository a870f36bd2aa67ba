import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isAppError } from '../../../src/lib/errors.js';
import { buildDhcpDiscover, decodeDhcpFrame, DhcpMessageType, type DhcpFrame } from '../../../src/packet/dhcp.js';
import { DLT_EN10MB, DLT_LINUX_SLL, DLT_RAW } from '../../../src/packet/frame.js';
import { concat, hex, loadHex, rng } from './fixtures.js';

const DHCP_DIR = new URL('../../../../test/fixtures/dhcp/', import.meta.url);
const load = (name: string): Uint8Array => hex(readFileSync(new URL(name, DHCP_DIR), 'utf8'));

const discover = load('eth-discover-wireprobe.hex');
const offerA = load('eth-offer-dnsmasq-a.hex');
const offerB = load('eth-offer-dnsmasq-b.hex');
const PROBE_MAC = Uint8Array.from([0xfe, 0x52, 0xf9, 0x21, 0x20, 0xd0]);
const XID = 0xaa87d10f;

function decoded(frame: Uint8Array, linkType = DLT_EN10MB): DhcpFrame {
  const d = decodeDhcpFrame(frame, frame.length, linkType);
  assert.ok(d !== null && !('error' in d), `expected a DHCP frame, got ${JSON.stringify(d)}`);
  return d;
}

/** BOOTP starts after Ethernet (14), IPv4 (20) and UDP (8) headers in the fixtures. */
const BOOTP = 42;

void test('decodes the real DISCOVER wireprobe sent', () => {
  assert.deepEqual(decoded(discover), {
    srcMac: 'fe:52:f9:21:20:d0', srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: 68, dstPort: 67,
    op: 1, xid: XID, broadcast: true, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: 'fe:52:f9:21:20:d0', messageType: DhcpMessageType.DISCOVER, serverId: '',
  });
});

void test('decodes the real dnsmasq OFFERs', () => {
  const a = decoded(offerA);
  assert.deepEqual(
    [a.op, a.xid, a.messageType, a.serverId, a.srcIp, a.dstIp, a.srcPort, a.dstPort, a.yiaddr, a.siaddr, a.chaddr, a.broadcast],
    [2, XID, DhcpMessageType.OFFER, '198.18.200.1', '198.18.200.1', '255.255.255.255', 67, 68, '198.18.200.109', '198.18.200.1', 'fe:52:f9:21:20:d0', true],
  );
  assert.equal(a.srcMac, 'de:ab:71:c0:e8:11');
  const b = decoded(offerB);
  assert.deepEqual([b.serverId, b.yiaddr, b.srcMac], ['198.18.201.1', '198.18.201.109', '8a:26:2a:54:c9:c4']);
});

void test('buildDhcpDiscover produces exactly the captured DISCOVER', () => {
  const packet = buildDhcpDiscover({ xid: XID, mac: PROBE_MAC, vendorClass: 'wireprobe' });
  assert.deepEqual(packet, discover.subarray(14));
});

void test('without a vendor class there is no option 60, and the message stays 300 bytes', () => {
  const packet = buildDhcpDiscover({ xid: 1, mac: PROBE_MAC, vendorClass: '' });
  assert.equal(packet.length, 20 + 8 + 300);
  const d = decoded(packet, DLT_RAW);
  assert.deepEqual([d.xid, d.messageType, d.srcMac, d.chaddr], [1, DhcpMessageType.DISCOVER, '', 'fe:52:f9:21:20:d0']);
  assert.equal(Buffer.from(packet).includes(Buffer.from('wireprobe')), false);
});

void test('buildDhcpDiscover rejects a bad MAC or vendor class with PKT_ERR_ENCODE', () => {
  const bad = (o: Parameters<typeof buildDhcpDiscover>[0]): void => {
    assert.throws(() => buildDhcpDiscover(o), (e) => isAppError(e, 'PKT_ERR_ENCODE'));
  };
  bad({ xid: 1, mac: new Uint8Array(5), vendorClass: '' });
  bad({ xid: 1, mac: PROBE_MAC, vendorClass: 'x'.repeat(256) });
  bad({ xid: 1, mac: PROBE_MAC, vendorClass: 'caf\u00e9' });
});

void test('frames that are not BOOTP over UDP 67/68 decode to null', () => {
  assert.equal(decodeDhcpFrame(loadHex('eth-icmp4-echo-request.hex'), 98, DLT_EN10MB), null);
  assert.equal(decodeDhcpFrame(loadHex('eth-icmp4-port-unreach-udp.hex'), 200, DLT_EN10MB), null);
  const otherPort = offerA.slice();
  otherPort[36] = 0x12; // UDP destination port 0x1244
  assert.equal(decodeDhcpFrame(otherPort, otherPort.length, DLT_EN10MB), null);
  assert.equal(decodeDhcpFrame(offerA, offerA.length, 999), null);
  assert.equal(decodeDhcpFrame(new Uint8Array(0), 0, DLT_EN10MB), null);
});

void test('malformed BOOTP messages give coded errors', () => {
  const err = (frame: Uint8Array): unknown => decodeDhcpFrame(frame, frame.length, DLT_EN10MB);
  assert.deepEqual(err(offerA.slice(0, BOOTP + 100)), { error: 'truncated' });
  const magic = offerA.slice();
  magic[BOOTP + 236] = 0;
  assert.deepEqual(err(magic), { error: 'bad_magic' });
  // the first option (53) claims 200 bytes
  const option = offerA.slice();
  option[BOOTP + 241] = 200;
  assert.deepEqual(err(option), { error: 'bad_options' });
  const fragment = offerA.slice();
  fragment[20] = 0x20; // IPv4 more-fragments flag
  assert.deepEqual(err(fragment), { error: 'fragment' });
});

void test('the capture length and the IP/UDP lengths bound what is read', () => {
  // options cut right after option 53/54: still decoded, because the end option is optional
  const cut = BOOTP + 240 + 3 + 6;
  const d = decodeDhcpFrame(offerA, cut, DLT_EN10MB);
  assert.ok(d !== null && !('error' in d));
  assert.equal(d.serverId, '198.18.200.1');
  // cut inside option 54: its length runs past the end
  assert.deepEqual(decodeDhcpFrame(offerA, cut - 2, DLT_EN10MB), { error: 'bad_options' });
});

void test('option overload (52): the server identifier may sit in `sname`', () => {
  const frame = offerA.slice();
  const opts = BOOTP + 240;
  // rewrite the options: 53=2, 52=2 (sname holds options), end; sname: 54=198.51.100.7, end
  frame.fill(0, opts, frame.length);
  frame.set([53, 1, 2, 52, 1, 2, 255], opts);
  frame.fill(0, BOOTP + 44, BOOTP + 108);
  frame.set([54, 4, 198, 51, 100, 7, 255], BOOTP + 44);
  assert.equal(decoded(frame).serverId, '198.51.100.7');
  // without option 52 the same sname bytes are a server name, not options
  frame[opts + 5] = 0;
  assert.equal(decoded(frame).serverId, '');
});

void test('VLAN-tagged and Linux cooked frames', () => {
  const tagged = concat(offerA.subarray(0, 12), [0x81, 0x00, 0x00, 0x0a], offerA.subarray(12));
  assert.deepEqual([decoded(tagged).serverId, decoded(tagged).srcMac], ['198.18.200.1', 'de:ab:71:c0:e8:11']);
  const sll = concat([0, 0, 0, 1, 0, 6], offerA.subarray(6, 12), [0, 0, 0x08, 0x00], offerA.subarray(14));
  const d = decoded(sll, DLT_LINUX_SLL);
  assert.deepEqual([d.serverId, d.srcMac], ['198.18.200.1', '']);
});

void test('fuzz: truncated, bit-flipped and random frames never throw', () => {
  const r = rng(0xd4c9);
  const bases = [discover, offerA, offerB];
  let decodedCount = 0;
  for (let i = 0; i < 20_000; i++) {
    const base = bases[r.int(bases.length)]!;
    const frame = base.slice(0, r.int(base.length + 1));
    for (let n = r.int(6); n > 0; n--) if (frame.length > 0) frame[r.int(frame.length)] = r.int(256);
    const input = r.next() < 0.1 ? r.bytes(r.int(400)) : frame;
    const d = decodeDhcpFrame(input, input.length, r.next() < 0.9 ? DLT_EN10MB : r.int(300));
    if (d !== null && !('error' in d)) decodedCount++;
  }
  assert.ok(decodedCount > 1000, `some mutations still decode (${decodedCount})`);
});
