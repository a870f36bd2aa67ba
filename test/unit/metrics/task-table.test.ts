import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBuffers, FastRegistry } from '../../../src/metrics/fast.js';
import { columnFamily, TaskTable, taskRowLabels, TimeOooFamily, type TaskRowLabels } from '../../../src/metrics/task-table.js';

const labels = (destination: string, group = 'g'): TaskRowLabels => taskRowLabels({ probe_name: 'lab', destination, address_family: 'ipv4', state: 'None', group });

void test('a table with non-ASCII label text is encoded as UTF-8, and is ASCII again once those rows are gone', () => {
  const r = new FastRegistry();
  const t = new TaskTable([0.01]);
  const sent = columnFamily(r, t, 'sent', 'counter', 'x_sent_total', 'sent');
  const ooo = new TimeOooFamily(r, 'app_time_ooo_total', 'ooo');
  ooo.add(t);
  const rows = ['plain', 'café', '東京-\u{1F600}'].map((d) => {
    const owner = { row: -1 };
    t.add(owner, labels(d), [50], 1_700_000_000_000);
    t.cols.sent[owner.row] = 7;
    return owner;
  });
  const text = (): string => {
    let out = '';
    r.expose((c) => (out += c));
    return out;
  };
  assert.deepEqual([t.ascii, sent.ascii, ooo.ascii], [false, false, false]);
  assert.equal(Buffer.concat([...r.encoded(new ByteBuffers(4096, 2))]).toString('utf8'), text());
  assert.ok(text().includes('x_sent_total{probe_name="lab",destination="東京-\u{1F600}",address_family="ipv4",state="None",group="g"} 7'));
  t.remove(rows[1]!);
  assert.equal(t.ascii, false, 'one non-ASCII row left');
  t.remove(rows[2]!);
  t.remove(rows[2]!);
  assert.deepEqual([t.ascii, sent.ascii, ooo.ascii], [true, true, true]);
  assert.equal(Buffer.concat([...r.encoded(new ByteBuffers(4096, 2))]).toString('utf8'), text());
  assert.equal(text().split('\n').filter((l) => l.startsWith('x_sent_total{')).length, 1);
});

void test('after compaction, removing the moved non-ASCII row makes the table ASCII again', () => {
  const r = new FastRegistry();
  const t = new TaskTable([]);
  columnFamily(r, t, 'sent', 'counter', 'x_sent_total', 'sent');
  const owners = Array.from({ length: 200 }, (_, i) => {
    const owner = { row: -1 };
    t.add(owner, labels(i === 150 ? 'zürich' : `t${i}`), [], 0);
    return owner;
  });
  for (let i = 0; i < 140; i++) t.remove(owners[i]!);
  assert.ok(owners[150]!.row < 150, 'rows moved down');
  assert.equal(t.ascii, false);
  t.remove(owners[150]!);
  assert.equal(t.ascii, true);
  const text = Buffer.concat([...r.encoded(new ByteBuffers(4096, 2))]).toString('utf8');
  assert.equal(text.split('\n').filter((l) => l.startsWith('x_sent_total{')).length, 59);
});

void test('owners with the same labels share a row: compaction moves every one, removing one removes it for all', () => {
  const r = new FastRegistry();
  const t = new TaskTable([]);
  columnFamily(r, t, 'sent', 'counter', 'x_sent_total', 'sent');
  const gone = Array.from({ length: 100 }, (_, i) => {
    const owner = { row: -1 };
    t.add(owner, labels(`t${i}`), [], 0);
    return owner;
  });
  const shared = [{ row: -1 }, { row: -1 }, { row: -1 }];
  for (const o of shared) t.add(o, labels('same'), [], 0);
  const single = { row: -1 };
  t.add(single, labels('single'), [], 0);
  assert.deepEqual(shared.map((o) => o.row), [100, 100, 100]);
  for (const o of gone) t.remove(o);
  const row = shared[0]!.row;
  assert.ok(row < 100, 'compacted');
  assert.deepEqual([...shared.map((o) => o.row), single.row], [row, row, row, row + 1], 'moved down together');
  t.remove(shared[1]!);
  assert.deepEqual([...shared.map((o) => o.row), single.row, t.size], [-1, -1, -1, row + 1, 1]);
});

void test('rows of one target in several groups: T5 and T4 text per row, found again after removals and compaction', () => {
  const r = new FastRegistry();
  const t = new TaskTable([]);
  columnFamily(r, t, 'sent', 'counter', 'x_sent_total', 'sent');
  const ooo = new TimeOooFamily(r, 'app_time_ooo_total', 'ooo');
  ooo.add(t);
  const filler = Array.from({ length: 100 }, (_, i) => {
    const owner = { row: -1 };
    t.add(owner, labels(`f${i}`), [], 0);
    return owner;
  });
  const groups = ['g1', 'g2', 'g3', 'g4'].map((g) => {
    const owner = { row: -1 };
    t.add(owner, labels('multi', g), [], 0);
    t.cols.sent[owner.row] = Number(g.slice(1));
    return owner;
  });
  assert.deepEqual(groups.map((o) => o.row), [100, 101, 102, 103]);
  t.remove(groups[2]!); // in the middle of the rows sharing the T3 text
  t.remove(groups[3]!); // the last added of them
  for (const o of filler) t.remove(o);
  const [g1, g2] = groups.map((o) => o.row);
  assert.ok(g1! < 100, 'compacted');
  assert.deepEqual(groups.map((o) => o.row), [g1, g1! + 1, -1, -1]);
  for (const [i, g] of ['g1', 'g2'].entries()) {
    const again = { row: -1 };
    t.add(again, labels('multi', g), [], 0);
    assert.equal(again.row, i === 0 ? g1 : g2, `${g} shares its row`);
  }
  const g3 = { row: -1 };
  t.add(g3, labels('multi', 'g3'), [], 0);
  assert.ok(g3.row > g2!, 'a new row');
  let text = '';
  r.expose((c) => (text += c));
  assert.equal(
    text,
    [
      '# HELP x_sent_total sent',
      '# TYPE x_sent_total counter',
      'x_sent_total{probe_name="lab",destination="multi",address_family="ipv4",state="None",group="g1"} 1',
      'x_sent_total{probe_name="lab",destination="multi",address_family="ipv4",state="None",group="g2"} 2',
      'x_sent_total{probe_name="lab",destination="multi",address_family="ipv4",state="None",group="g3"} 0',
      '# HELP app_time_ooo_total ooo',
      '# TYPE app_time_ooo_total counter',
      'app_time_ooo_total{probe_name="lab",destination="multi",address_family="ipv4",group="g1"} 0',
      'app_time_ooo_total{probe_name="lab",destination="multi",address_family="ipv4",group="g2"} 0',
      'app_time_ooo_total{probe_name="lab",destination="multi",address_family="ipv4",group="g3"} 0',
      '',
    ].join('\n'),
  );
  t.remove(groups[0]!);
  t.remove(groups[1]!);
  t.remove(g3);
  assert.equal(t.size, 0);
  const fresh = { row: -1 };
  t.add(fresh, labels('multi', 'g2'), [], 0);
  assert.equal(t.size, 1, 'no stale row found for the removed labels');
});
