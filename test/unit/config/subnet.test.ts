import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandDestination, MAX_SUBNET_ADDRESSES, parseDestinationRange } from '../../../src/config/subnet.js';

void describe('expandDestination', () => {
  void it('expands an IPv4 /24 to all 256 addresses, network and broadcast included', () => {
    const all = expandDestination('192.0.2.0/24', MAX_SUBNET_ADDRESSES);
    assert.equal(all.length, 256);
    assert.equal(all[0], '192.0.2.0');
    assert.equal(all[1], '192.0.2.1');
    assert.equal(all[255], '192.0.2.255');
  });

  const CASES: readonly [string, string[]][] = [
    ['10.0.0.4/30', ['10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7']],
    ['10.0.0.5/30', ['10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7']],
    ['10.0.0.9/32', ['10.0.0.9']],
    ['2001:DB8:0::0/126', ['2001:db8::', '2001:db8::1', '2001:db8::2', '2001:db8::3']],
    ['2001:db8:0:0:1:0:0:1/128', ['2001:db8::1:0:0:1']],
    ['::ffff:192.0.2.1/127', ['::ffff:192.0.2.0', '::ffff:192.0.2.1']],
    ['10.0.0.1-3', ['10.0.0.1', '10.0.0.2', '10.0.0.3']],
    ['10.0.1-2.7', ['10.0.1.7', '10.0.2.7']],
    ['10.0.0.9', ['10.0.0.9']],
  ];
  for (const [dest, expected] of CASES) {
    void it(`${dest} → ${expected.length} addresses`, () => {
      assert.deepEqual(expandDestination(dest, MAX_SUBNET_ADDRESSES), expected);
    });
  }

  void it('expands a wildcard octet to 0..255, ascending', () => {
    const all = expandDestination('10.0.*.1', MAX_SUBNET_ADDRESSES);
    assert.equal(all.length, 256);
    assert.deepEqual(all.slice(0, 2), ['10.0.0.1', '10.0.1.1']);
    assert.equal(all[255], '10.0.255.1');
  });

  void it('accepts exactly `max` addresses and refuses one more', () => {
    assert.equal(expandDestination('10.0.0.0/16', 65536).length, 65536);
    assert.equal(expandDestination('2001:db8::/112', 65536).length, 65536);
    assert.throws(() => expandDestination('10.0.0.0/15', 65536), {
      message: '"10.0.0.0/15" expands to 131072 addresses, more than 65536',
    });
    assert.equal(expandDestination('10.*.*.1', 65536).length, 65536);
    assert.throws(() => expandDestination('10.*.*.1-2', 65536), { message: '"10.*.*.1-2" expands to 131072 addresses, more than 65536' });
  });

  void it('refuses forms it cannot parse', () => {
    for (const dest of ['web.example.com', '10.0.0.0/33', '10.0.0.3-1', '10.0.0', '10.0.0.256', '10.0.0.01', 'fe80::1', '::/129', '10.0.0.0/8/8']) {
      assert.throws(() => expandDestination(dest, 10), { message: `"${dest}" is neither a CIDR network nor an IPv4 range` });
    }
  });

  void it('never allocates before checking the size', () => {
    assert.throws(() => expandDestination('::/0', MAX_SUBNET_ADDRESSES), /expands to 340282366920938463463374607431768211456 addresses/);
  });
});

void describe('parseDestinationRange', () => {
  void it('gives family and size without expanding', () => {
    assert.deepEqual(
      [parseDestinationRange('10.*.*.*'), parseDestinationRange('2001:db8::/64')].map((r) => [r?.family, r?.size]),
      [
        ['ipv4', 16777216n],
        ['ipv6', 18446744073709551616n],
      ],
    );
    assert.equal(parseDestinationRange('bing.com'), null);
  });
});
