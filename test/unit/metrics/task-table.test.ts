import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBuffers, FastRegistry } from '../../../src/metrics/fast.js';
import { columnFamily, TaskTable, TimeOooFamily, type TaskLabels } from '../../../src/metrics/task-table.js';

const labels = (destination: string): TaskLabels => ({ probe_name: 'lab', destination, address_family: 'ipv4', state: 'None', group: 'g' });

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
