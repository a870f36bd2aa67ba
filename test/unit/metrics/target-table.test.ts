import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBuffers, FastFamily, FastRegistry, labelSet } from '../../../src/metrics/fast.js';
import { T3 } from '../../../src/metrics/labels.js';
import { TargetFamily, TargetTable } from '../../../src/metrics/target-table.js';

const FAMILIES = [
  ['gauge', 'x_status', 'status'],
  ['counter', 'x_change_total', 'changes'],
  ['gauge', 'x_change_created', 'created'],
] as const;

/** a small deterministic generator (LCG), so a failure can be replayed */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s % n;
  };
}

void test('a target table renders what FastFamily families given the same calls render: series, values, order, removal', () => {
  const ref = new FastRegistry();
  const refs = FAMILIES.map(([type, name, help]) => new FastFamily(ref, type, name, help, T3));
  const reg = new FastRegistry();
  const table = new TargetTable(FAMILIES.length);
  const fams = FAMILIES.map(([type, name, help], c) => new TargetFamily(reg, table, c, type, name, help, T3));
  const sets = Array.from({ length: 150 }, (_, i) => labelSet(T3, { probe_name: 'lab', destination: i % 37 === 0 ? `zürich-${i}` : `t${i}`, address_family: 'ipv4' }));
  const text = (r: FastRegistry): string => {
    let out = '';
    r.expose((c) => (out += c));
    return out;
  };
  const next = random(14);
  for (let op = 0; op < 20_000; op++) {
    const ls = sets[next(sets.length)]!;
    const f = next(FAMILIES.length);
    switch (next(6)) {
      case 0:
        refs[f]!.child(ls);
        fams[f]!.ensure(ls);
        break;
      case 1:
      case 2: {
        const v = next(1000) / 7;
        refs[f]!.child(ls).value = v;
        fams[f]!.set(ls, v);
        break;
      }
      case 3:
        refs[f]!.child(ls).value++;
        fams[f]!.add(ls, 1);
        break;
      default:
        for (const x of refs) x.remove(ls);
        table.remove(ls);
    }
    if (op % 997 === 0 || op === 19_999) {
      assert.equal(text(reg), text(ref), `after op ${op}`);
      assert.deepEqual(
        fams.map((x) => [x.seriesCount, x.ascii]),
        refs.map((x) => [x.seriesCount, x.ascii]),
        `counts and ASCII after op ${op}`,
      );
    }
  }
  assert.ok(refs[0]!.seriesCount > 10, 'the run leaves series to compare');
  assert.equal(Buffer.concat([...reg.encoded(new ByteBuffers(4096, 2))]).toString('utf8'), text(ref));
});

void test('a family lists its series in creation order, not in the order of the table rows', () => {
  const reg = new FastRegistry();
  const table = new TargetTable(2);
  const primed = new TargetFamily(reg, table, 0, 'counter', 'x_primed_total', 'p', T3);
  const status = new TargetFamily(reg, table, 1, 'gauge', 'x_status', 's', T3);
  const [a, b, c] = ['a', 'b', 'c'].map((d) => labelSet(T3, { probe_name: 'p', destination: d, address_family: 'ipv4' }));
  for (const ls of [a!, b!, c!]) primed.ensure(ls);
  status.set(c!, 1);
  status.set(a!, 0);
  let out = '';
  reg.expose((x) => (out += x));
  const lines = out.split('\n').filter((l) => l.startsWith('x_'));
  assert.deepEqual(lines, [
    'x_primed_total{probe_name="p",destination="a",address_family="ipv4"} 0',
    'x_primed_total{probe_name="p",destination="b",address_family="ipv4"} 0',
    'x_primed_total{probe_name="p",destination="c",address_family="ipv4"} 0',
    'x_status{probe_name="p",destination="c",address_family="ipv4"} 1',
    'x_status{probe_name="p",destination="a",address_family="ipv4"} 0',
  ]);
});
