import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalIp, isHostname, literalAddresses, resolveHostname } from '../../../src/targets/addresses.js';
import { configOf } from './fixtures.js';

const c = configOf({ g: '{}' }, {
  v4: '{type: ICMPping, destination: 198.18.0.1}',
  v6: '{type: ICMPping, destination: "2001:DB8:0:0::1"}',
  net: '{type: ICMPping, destination: 198.18.0.0/30, is_subnet: true}',
  host: '{type: ICMPping, destination: db.example.com, address_family: ipv6}',
});
const t = (name: string) => c.targets[name]!;

void test('canonicalIp: one spelling per address; null for anything else', () => {
  assert.equal(canonicalIp('2001:DB8:0:0::1'), '2001:db8::1');
  assert.equal(canonicalIp('198.18.0.1'), '198.18.0.1');
  assert.equal(canonicalIp('db.example.com'), null);
});

void test('literals and subnets stand for their addresses; hostnames for none yet', () => {
  assert.deepEqual(literalAddresses(t('v4')), ['198.18.0.1']);
  assert.deepEqual(literalAddresses(t('v6')), ['2001:db8::1']);
  assert.deepEqual(literalAddresses(t('net')), ['198.18.0.0', '198.18.0.1', '198.18.0.2', '198.18.0.3']);
  assert.equal(literalAddresses(t('host')), null);
  assert.deepEqual(['v4', 'v6', 'net', 'host'].map((n) => isHostname(t(n))), [false, false, false, true]);
});

void test('resolveHostname asks for the target family and canonicalises the answer', async () => {
  const asked: [string, number][] = [];
  const address = await resolveHostname((host, family) => {
    asked.push([host, family]);
    return Promise.resolve('2001:DB8::0:7');
  }, t('host'), 6);
  assert.equal(address, '2001:db8::7');
  assert.deepEqual(asked, [['db.example.com', 6]]);
  await assert.rejects(resolveHostname(() => Promise.reject(new Error('NXDOMAIN')), t('host'), 6), /NXDOMAIN/);
});
