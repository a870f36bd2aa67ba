import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConntrackStats, parseSysctlCount } from '../../../src/checks/conntrack-stats.js';

const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/conntrack/', import.meta.url));
const fixture = (name: string): string => readFileSync(FIXTURES + name, 'utf8');

/** Both captures (netlink and the /proc fallback) are of the same table: the same sums by netlink name. */
const FIXTURE_TOTALS = {
  found: 0,
  invalid: 0,
  insert: 262155,
  insert_failed: 0,
  drop: 0,
  early_drop: 11,
  error: 0,
  search_restart: 0,
  clash_resolve: 0,
  chaintoolong: 0,
};

void describe('conntrack -S parsing (captured output)', () => {
  void it('sums the per-CPU netlink statistics', () => {
    const s = parseConntrackStats(fixture('stats-full-table.txt'));
    assert.equal(s.cpus, 2);
    assert.equal(s.malformed, 0);
    assert.deepEqual(Object.fromEntries(s.totals), FIXTURE_TOTALS);
  });

  void it('maps the /proc fallback format onto the netlink names, without entries and constant columns', () => {
    const s = parseConntrackStats(fixture('stats-proc-fallback.txt'));
    assert.equal(s.cpus, 2);
    assert.deepEqual(Object.fromEntries(s.totals), FIXTURE_TOTALS);
  });

  void it('counts foreign lines, bounds the names, never throws', () => {
    const text = [
      'conntrack v1.4.7 (conntrack-tools): Operation failed: sorry, you must be root',
      'cpu=0 found=1 drop=x',
      'cpu=1 Found=1',
      'cpu=2 found=2',
      '',
      'cpu=3\tfound=3 a_new_counter=4',
      `cpu=4 ${Array.from({ length: 40 }, (_, i) => `k${String.fromCharCode(97 + (i % 26))}${'x'.repeat(Math.floor(i / 26))}=1`).join(' ')}`,
    ].join('\n');
    const s = parseConntrackStats(text);
    assert.equal(s.cpus, 3);
    assert.equal(s.malformed, 3);
    assert.equal(s.totals.get('found'), 5);
    assert.equal(s.totals.get('a_new_counter'), 4);
    assert.equal(s.totals.size, 32);
    assert.deepEqual(parseConntrackStats(''), { totals: new Map(), cpus: 0, malformed: 0 });
  });

  void it('reads sysctl counts', () => {
    assert.equal(parseSysctlCount('262144\n'), 262144);
    assert.equal(parseSysctlCount(' 0 '), 0);
    assert.equal(parseSysctlCount('lots\n'), undefined);
    assert.equal(parseSysctlCount('-1'), undefined);
    assert.equal(parseSysctlCount(''), undefined);
  });
});
