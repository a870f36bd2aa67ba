import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseHping3Summary } from '../../../bench/hping3-summary.js';

// Compiled to dist/test/unit/bench/: the repository root is four levels up. The fixtures are the
// stderr of hping3 3.0.0-alpha-2 (Debian 3.a2.ds2-10) runs in the lab's probe namespace.
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/hping3/', import.meta.url));
const load = (name: string): string => readFileSync(FIXTURES + name, 'utf8');

void describe('parseHping3Summary', () => {
  void it('reads transmitted and received from a clean run (2000 SYNs to a closed port, all answered)', () => {
    assert.deepEqual(parseHping3Summary(load('syn-closed-2000.stderr')), { stats: { xmt: 2000, rcv: 2000 }, errors: [] });
  });

  void it('keeps the exact counts where hping3 rounds the percentage (19 of 2000 lost, printed as 1%)', () => {
    assert.deepEqual(parseHping3Summary(load('udp-rand-dest-loss.stderr')), { stats: { xmt: 2000, rcv: 1981 }, errors: [] });
  });

  void it('reads a run where nothing came back (unknown -I: hping3 falls back to lo and exits 1)', () => {
    assert.deepEqual(parseHping3Summary(load('unknown-interface-falls-back-to-lo.stderr')), { stats: { xmt: 3, rcv: 0 }, errors: [] });
  });

  void it('returns the error line and no statistics when hping3 cannot open its raw socket', () => {
    assert.deepEqual(parseHping3Summary(load('not-root.stderr')), { stats: undefined, errors: ['[open_sockraw] socket(): Operation not permitted'] });
  });

  void it('returns nothing for empty output (killed before printing)', () => {
    assert.deepEqual(parseHping3Summary(''), { stats: undefined, errors: [] });
  });
});
