import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldChecksum, internetChecksum, pseudoHeaderSum, sum16 } from '../../../src/packet/checksum.js';
import { concat, hex, loadHex } from './fixtures.js';

void test('RFC 1071 numerical example: partial sum, fold and checksum', () => {
  const v = loadHex('checksum-rfc1071.hex');
  assert.deepEqual([...v], [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(sum16(v, 0, v.length), 0x2ddf0);
  assert.equal(foldChecksum(0x2ddf0), 0x220d);
  assert.equal(internetChecksum(v, 0, v.length), 0x220d);
  // Appending the checksum makes the whole thing sum to zero.
  assert.equal(internetChecksum(concat(v, [0x22, 0x0d]), 0, 10), 0);
});

void test('odd trailing byte is padded with a zero low byte', () => {
  const v = hex('01 02 03');
  assert.equal(sum16(v, 0, 3), 0x0402);
  assert.equal(internetChecksum(v, 0, 3), 0xfbfd);
  assert.equal(sum16(v, 1, 3), 0x0203);
  assert.equal(sum16(v, 2, 3), 0x0300);
  assert.equal(sum16(v, 3, 3), 0);
});

void test('partial sums chain through `initial` at even split points', () => {
  const v = loadHex('eth-icmp4-echo-request.hex');
  const whole = internetChecksum(v, 14, 98);
  for (let split = 14; split <= 98; split += 2) {
    assert.equal(internetChecksum(v, split, 98, sum16(v, 14, split)), whole, `split ${split}`);
  }
  assert.equal(sum16(v, 14, 34, 7), sum16(v, 14, 34) + 7);
});

void test('sum16 never reads outside the buffer', () => {
  const v = hex('ff ff 00 01');
  assert.equal(sum16(v, 0, 100), 0x10000);
  assert.equal(sum16(v, -4, 2), 0xffff);
});

void test('foldChecksum: carries, all-ones and zero sums, sums above 2^32', () => {
  assert.equal(foldChecksum(0), 0xffff);
  assert.equal(foldChecksum(0xffff), 0);
  assert.equal(foldChecksum(0x1fffe), 0); // 0xfffe + 1 = 0xffff
  assert.equal(foldChecksum(0x12345), 0xdcb9); // 0x2345 + 1 = 0x2346
  assert.equal(foldChecksum(0x100000000), 0xfffe); // 2^32 folds to 1
  assert.equal(foldChecksum(0xffffffff), 0); // all ones stays all ones
  assert.equal(foldChecksum(0xffffffffff), 0xff00); // words 0x00ff, 0xffff, 0xffff
});

void test('a long run of 0xff bytes folds without losing carries', () => {
  const v = new Uint8Array(65535).fill(0xff);
  assert.equal(internetChecksum(v, 0, v.length), 0x00ff); // 32767 * 0xffff + 0xff00 folds to 0xff00
});

void test('real IPv4 ping: header and ICMP checksums are the captured values and verify to 0', () => {
  const f = loadHex('eth-icmp4-echo-request.hex');
  assert.equal(internetChecksum(f, 14, 34), 0);
  assert.equal(internetChecksum(f, 34, 98), 0);
  const zeroed = f.slice();
  zeroed[24] = 0;
  zeroed[25] = 0;
  assert.equal(internetChecksum(zeroed, 14, 34), 0x0a99);
  zeroed[36] = 0;
  zeroed[37] = 0;
  assert.equal(internetChecksum(zeroed, 34, 98), 0x51be);
  // Works the same on a Buffer.
  assert.equal(internetChecksum(Buffer.from(zeroed), 34, 98), 0x51be);
});

void test('real ICMPv6 ping: checksum with the pseudo-header verifies and matches the capture', () => {
  for (const [name, stored] of [
    ['eth-icmp6-echo-request.hex', 0xe438],
    ['eth-icmp6-echo-reply.hex', 0xe338],
  ] as const) {
    const f = loadHex(name);
    const src = f.subarray(22, 38);
    const dst = f.subarray(38, 54);
    const ph = pseudoHeaderSum(src, dst, 58, 64);
    assert.equal(internetChecksum(f, 54, 118, ph), 0, name);
    const zeroed = f.slice();
    zeroed[56] = 0;
    zeroed[57] = 0;
    assert.equal(internetChecksum(zeroed, 54, 118, ph), stored, name);
    // Without the pseudo-header it does not verify.
    assert.notEqual(internetChecksum(f, 54, 118), 0, name);
  }
});

void test('pseudoHeaderSum equals the sum of an explicitly built pseudo-header', () => {
  const s4 = hex('c0 00 02 01');
  const d4 = hex('c6 33 64 07');
  const ph4 = concat(s4, d4, [0, 17, 0x01, 0x2c]);
  assert.equal(pseudoHeaderSum(s4, d4, 17, 300), sum16(ph4, 0, ph4.length));
  assert.equal(foldChecksum(pseudoHeaderSum(s4, d4, 17, 300)), 0x1286);

  const s6 = hex('2001 0db8 0000 0000 0000 0000 0000 0001');
  const d6 = hex('fe80 0000 0000 0000 0211 22ff fe33 4455');
  for (const len of [0, 8, 1280, 65535, 70000, 0x12345678]) {
    const l = [(len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff];
    const ph6 = concat(s6, d6, l, [0, 0, 0, 58]);
    assert.equal(
      foldChecksum(pseudoHeaderSum(s6, d6, 58, len)),
      foldChecksum(sum16(ph6, 0, ph6.length)),
      `length ${len}`,
    );
  }
});
