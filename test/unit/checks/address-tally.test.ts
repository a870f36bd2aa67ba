import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressTally, formatV4, parseV6Words } from '../../../src/checks/address-tally.js';
import { parseIp } from '../../../src/packet/addr.js';

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
      { address: formatV4(0xc6120000 + n - 1), value: n - 1 },
      { address: formatV4(0xc6120000 + n - 2), value: n - 2 },
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

void describe('parseV6Words', () => {
  const words = (bytes: Uint8Array): number[] => {
    const v = new DataView(bytes.buffer, bytes.byteOffset, 16);
    return [0, 1, 2, 3].map((k) => v.getUint32(k * 4));
  };

  void it('agrees with the packet codec on 5000 random addresses in every compressed form, and on bad text', () => {
    const out = new Uint32Array(4);
    const groups = new Uint16Array(8);
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let t = 0; t < 5000; t++) {
      const g = Array.from({ length: 8 }, () => (rnd(3) === 0 ? 0 : rnd(0x10000)));
      const hex = g.map((x) => (rnd(2) ? x.toString(16) : x.toString(16).toUpperCase()));
      const a = rnd(9);
      const b = Math.min(8, a + rnd(9 - a));
      const zero = g.slice(a, b).every((x) => x === 0) && b > a;
      const text = zero ? `${hex.slice(0, a).join(':')}::${hex.slice(b).join(':')}` : hex.join(':');
      const ref = parseIp(text);
      assert.equal(parseV6Words(text, groups, out), ref !== null, text);
      if (ref) assert.deepEqual([...out], words(ref), text);
    }
    for (const bad of ['', ':', ':::', '1::2::3', '12345::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7:8::', '::1:', '1::2:', ':1::2']) {
      assert.equal(parseV6Words(bad, groups, out), parseIp(bad) !== null, JSON.stringify(bad));
    }
  });
});
