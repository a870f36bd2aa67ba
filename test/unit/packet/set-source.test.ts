import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../../../src/lib/address.js';
import { createEchoTemplate } from '../../../src/packet/icmp.js';
import { createSynTemplate } from '../../../src/packet/tcp.js';
import { createUdpTemplate } from '../../../src/packet/udp.js';
import { rng } from './fixtures.js';

const ip = (s: string): Uint8Array => parseIp(s)!;

/** Random sources of one family, including ones with 0x00/0xff bytes (carry edge cases). */
function sources(family: 4 | 6, n: number): Uint8Array[] {
  const r = rng(7 + family);
  const out = [family === 4 ? ip('255.255.255.254') : ip('ffff:ffff::fffe'), family === 4 ? ip('0.0.0.1') : ip('::1')];
  while (out.length < n) {
    out.push(r.bytes(family === 4 ? 4 : 16));
  }
  return out;
}

for (const family of [4, 6] as const) {
  const dst = family === 4 ? ip('198.19.3.4') : ip('2001:db8:1::34');
  const first = family === 4 ? ip('198.18.0.2') : ip('2001:db8::2');
  const base = { family, dst, tos: 0xb8, ttl: 64, dontFragment: true, dstPort: 33434, ipPayloadSize: 60 };

  void test(`IPv${family}: after setSource, every template stamps what a fresh template with that source stamps`, () => {
    const syn = createSynTemplate({ ...base, src: first });
    const udp = createUdpTemplate({ ...base, src: first });
    const echo = createEchoTemplate({ ...base, src: first });
    let k = 0;
    for (const src of sources(family, 40)) {
      k++;
      syn.setSource(src);
      udp.setSource(src);
      echo.setSource(src);
      const port = (40000 + k * 977) & 0xffff;
      assert.deepEqual(syn.stamp(port, k * 0x01010101, k), createSynTemplate({ ...base, src }).stamp(port, k * 0x01010101, k));
      assert.deepEqual(udp.stamp(port, k * 31), createUdpTemplate({ ...base, src }).stamp(port, k * 31));
      assert.deepEqual(echo.stamp(k, k * 3), createEchoTemplate({ ...base, src }).stamp(k, k * 3));
    }
  });
}

void test('setSource refuses a source of the other family', () => {
  const t = createSynTemplate({ family: 4, src: ip('198.18.0.2'), dst: ip('198.19.0.1'), tos: 0, ttl: 64, dontFragment: false, dstPort: 80, ipPayloadSize: 20 });
  assert.throws(() => t.setSource(ip('2001:db8::1')), RangeError);
});
