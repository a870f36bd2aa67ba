import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressTally } from '../../../src/lib/address-tally.js';
import { formatIPv4 } from '../../../src/lib/address.js';

void describe('AddressTally', () => {
  void it('counts many IPv4 addresses exactly through table growth, including 0.0.0.0 and 255.255.255.255', () => {
    const t = new AddressTally();
    const n = 20_000;
    for (let i = 0; i < n; i++) t.addV4((0xc6120000 + i) >>> 0, 1, i, 2 * i);
    for (let i = 0; i < n; i += 2) t.addV4((0xc6120000 + i) >>> 0, 1, 0, 0);
    t.addV4(0, 7, 0, 0);
    t.addV4(0xffffffff, 3, 0, 0);
    assert.equal(t.size, n + 2);
    assert.deepEqual(t.top('flows', 3), [
      { address: '0.0.0.0', value: 7 },
      { address: '255.255.255.255', value: 3 },
      { address: '198.18.0.0', value: 2 },
    ]);
    assert.deepEqual(t.top('bytes', 2), [
      { address: formatIPv4(0xc6120000 + n - 1), value: n - 1 },
      { address: formatIPv4(0xc6120000 + n - 2), value: n - 2 },
    ]);
    assert.deepEqual(t.top('packets', 1), [{ address: '198.18.78.31', value: 2 * (n - 1) }]);
  });

  void it('ranks ties by address (IPv4 numerically, before IPv6) and leaves zero values out', () => {
    const t = new AddressTally();
    t.addOther('2001:db8::2', 5, 0, 0);
    t.addOther('2001:db8::1', 5, 0, 0);
    t.addV4(0xc6120a02, 5, 0, 0); // 198.18.10.2
    t.addV4(0xc612090a, 5, 0, 0); // 198.18.9.10 sorts before 198.18.10.2 numerically
    t.addV4(0xc6120001, 9, 0, 0);
    assert.deepEqual(
      t.top('flows', 10).map((r) => r.address),
      ['198.18.0.1', '198.18.9.10', '198.18.10.2', '2001:db8::1', '2001:db8::2'],
    );
    assert.deepEqual(t.top('flows', 2).map((r) => r.address), ['198.18.0.1', '198.18.9.10']);
    assert.deepEqual(t.top('bytes', 10), []);
    assert.deepEqual(t.top('flows', 0), []);
    t.addV4(1, 0, 100, 100); // zero flows: ignored
    assert.equal(t.size, 5);
  });

  void it('export → merge is the identity, and merging adds up', () => {
    const a = new AddressTally();
    a.addV4(0xc6120001, 2, 10, 1);
    a.addOther('2001:db8::1', 1, 5, 1);
    const b = new AddressTally();
    b.merge(a.export());
    b.merge(a.export());
    assert.deepEqual(b.top('bytes', 5), [
      { address: '198.18.0.1', value: 20 },
      { address: '2001:db8::1', value: 10 },
    ]);
    const data = b.export();
    assert.deepEqual([...data.v4], [0xc6120001]);
    assert.deepEqual([...data.v4Counts], [4, 20, 2]);
    assert.deepEqual([...data.v6], [0x20010db8, 0, 0, 1]);
    assert.deepEqual([...data.v6Counts], [2, 10, 2]);
    assert.deepEqual(data.other, []);
  });

  void it('counts many IPv6 addresses exactly through table growth, in any text form, formatted canonically', () => {
    const t = new AddressTally();
    const n = 20_000;
    for (let i = 0; i < n; i++) t.addOther(`2001:db8:${(i >> 8).toString(16)}::${(i & 0xff).toString(16)}`, 1, i, 0);
    t.addOther('2001:DB8:0:0:0:0:0:7', 5, 0, 0); // = 2001:db8::7
    t.addOther('::ffff:198.18.0.1', 2, 0, 0);
    t.addOther('not-an-address:', 1, 0, 0); // kept apart, ranked last among ties
    assert.equal(t.size, n + 2);
    assert.deepEqual(t.top('flows', 3), [
      { address: '2001:db8::7', value: 6 },
      { address: '::ffff:198.18.0.1', value: 2 },
      { address: '2001:db8::', value: 1 },
    ]);
    assert.deepEqual(t.top('bytes', 1), [{ address: '2001:db8:4e::1f', value: n - 1 }]);
    const copy = new AddressTally();
    copy.merge(t.export());
    assert.deepEqual(copy.top('flows', 3), t.top('flows', 3));
    assert.equal(copy.size, t.size);
  });
});
