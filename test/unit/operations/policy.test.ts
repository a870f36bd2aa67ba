/** Destination policy: allow and deny prefixes (deny wins), IPv4-mapped IPv6, built-in refusals, strict literals. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parsePrefix } from '../../../src/config/operations.js';
import type { PrefixConfig } from '../../../src/config/types.js';
import { createPolicy } from '../../../src/operations/policy.js';

const prefixes = (...texts: string[]): PrefixConfig[] => texts.map((t) => parsePrefix(t) as PrefixConfig);
const verdict = (allow: string[], deny: string[], address: string): string => {
  const v = createPolicy(prefixes(...allow), prefixes(...deny)).check(address);
  return v.ok ? `ok ${v.address}` : v.reason;
};

void it('an empty allow list allows nothing', () => {
  assert.equal(verdict([], [], '198.18.0.1'), '198.18.0.1 is not in operations.allow; operations.allow is empty: no destination is allowed');
});

void it('allows inside allow, refuses outside it, and deny wins over allow', () => {
  const allow = ['198.18.0.0/15', '2001:db8::/32'];
  const deny = ['198.18.7.0/24', '2001:db8:dead::/48'];
  assert.equal(verdict(allow, deny, '198.18.0.1'), 'ok 198.18.0.1');
  assert.equal(verdict(allow, deny, '198.19.255.255'), 'ok 198.19.255.255');
  assert.equal(verdict(allow, deny, '198.20.0.1'), '198.20.0.1 is not in operations.allow');
  assert.equal(verdict(allow, deny, '198.18.7.9'), '198.18.7.9 is denied (operations.deny 198.18.7.0/24)');
  assert.equal(verdict(allow, deny, '2001:DB8::0:1'), 'ok 2001:db8::1');
  assert.equal(verdict(allow, deny, '2001:db8:dead::1'), '2001:db8:dead::1 is denied (operations.deny 2001:db8:dead::/48)');
  assert.equal(verdict(['0.0.0.0/0', '::/0'], ['10.0.0.0/8'], '10.1.2.3'), '10.1.2.3 is denied (operations.deny 10.0.0.0/8)');
});

void it('checks an IPv4-mapped IPv6 address as its IPv4 address, in both directions', () => {
  assert.equal(verdict(['0.0.0.0/0', '::/0'], ['10.0.0.0/8'], '::ffff:10.0.0.1'), '10.0.0.1 is denied (operations.deny 10.0.0.0/8)');
  assert.equal(verdict(['0.0.0.0/0', '::/0'], ['10.0.0.0/8'], '::ffff:a00:1'), '10.0.0.1 is denied (operations.deny 10.0.0.0/8)');
  assert.equal(verdict(['198.18.0.0/15'], [], '::ffff:198.18.0.1'), 'ok 198.18.0.1', 'probed as the IPv4 address');
  assert.equal(verdict(['::/0'], [], '::ffff:198.18.0.1'), '198.18.0.1 is not in operations.allow', 'an IPv6 allow does not cover a mapped IPv4 address');
});

void it('always refuses unspecified, multicast and limited broadcast, even when allowed', () => {
  const all = ['0.0.0.0/0', '::/0'];
  for (const a of ['0.0.0.0', '0.1.2.3', '224.0.0.1', '239.255.255.250', '255.255.255.255', '::', 'ff02::1', '::ffff:224.0.0.1']) {
    assert.match(verdict(all, [], a), /is unspecified, multicast or broadcast/, a);
  }
});

void it('takes strict address literals only: no octal, hexadecimal, short or zoned forms', () => {
  for (const a of ['010.0.0.1', '0x7f.0.0.1', '127.1', '2130706433', 'fe80::1%eth0', 'example.test', '']) {
    assert.match(verdict(['0.0.0.0/0', '::/0'], [], a), /is not an IP address/, a);
  }
});
