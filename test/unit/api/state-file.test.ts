import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadState, parseState, removeStaleTemporaries, serializeState, writeAtomic } from '../../../src/api/state-file.js';

const dir = mkdtempSync(join(tmpdir(), 'wpt-state-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RECORDS = [
  { name: 'a', entry: { type: 'ICMPping', destination: '198.18.0.1' }, createdMs: 1_700_000_000_000, updatedMs: 1_700_000_001_000, expiresMs: null },
  { name: 'b.c', entry: { type: 'TCPsyn', destination: 'h.example', dst_port: 22 }, createdMs: 1_700_000_000_500, updatedMs: 1_700_000_000_500, expiresMs: 1_700_003_600_000 },
];

void test('serialize then parse gives the records back', () => {
  const text = serializeState(RECORDS);
  assert.equal((JSON.parse(text) as { version: number }).version, 1);
  assert.deepEqual(parseState(text), { records: RECORDS, rejected: [] });
});

void test('parse errors say what is wrong: the whole file', () => {
  const cases: [string, RegExp][] = [
    ['', /not JSON/],
    ['[]', /not a JSON object/],
    ['{"version": 2, "targets": []}', /unsupported version 2/],
    ['{"version": 1}', /"targets" is not a list/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseState(text), message, text);
});

void test('bad records are rejected one by one with their reason; the good ones load', () => {
  const cases: [unknown, RegExp][] = [
    [1, /targets\[0\] is not an object/],
    [{ name: '__proto__', entry: {} }, /targets\[0\]\.name/],
    [{ name: '..', entry: {} }, /targets\[0\]\.name/],
    [{ name: 'a', entry: [] }, /targets\[0\]\.entry/],
    [{ name: 'a', entry: {}, created_at: 'yesterday' }, /created_at is not an ISO 8601 time/],
  ];
  const good = JSON.parse(serializeState(RECORDS)) as { targets: unknown[] };
  for (const [item, message] of cases) {
    const got = parseState(JSON.stringify({ version: 1, targets: [item, ...good.targets] }));
    assert.deepEqual(got.records, RECORDS);
    assert.equal(got.rejected.length, 1);
    assert.deepEqual(got.rejected[0]!.item, item);
    assert.match(got.rejected[0]!.reason, message);
  }
  const twice = parseState(serializeState([RECORDS[0]!, RECORDS[0]!]));
  assert.deepEqual(twice.records, [RECORDS[0]]);
  assert.match(twice.rejected[0]!.reason, /appears twice/);
});

void test('writeAtomic replaces the file and leaves no temporary file', async () => {
  const file = join(dir, 'w.json');
  writeFileSync(file, 'old');
  await writeAtomic(file, 'new text\n');
  assert.equal(readFileSync(file, 'utf8'), 'new text\n');
  assert.deepEqual(readdirSync(dir).sort(), ['w.json']);
});

void test('stale temporaries of this file (only) are removed', async () => {
  const file = join(dir, 's.json');
  writeFileSync(join(dir, '.s.json.tmp-abc'), 'x');
  writeFileSync(join(dir, '.other.json.tmp-abc'), 'x');
  assert.deepEqual(await removeStaleTemporaries(file), ['.s.json.tmp-abc']);
  assert.ok(readdirSync(dir).includes('.other.json.tmp-abc'));
});

void test('loadState: absent, loaded, corrupt (renamed aside, content kept)', async () => {
  assert.deepEqual(await loadState(join(dir, 'none.json'), 0), { kind: 'absent' });
  const good = join(dir, 'good.json');
  writeFileSync(good, serializeState(RECORDS));
  assert.deepEqual(await loadState(good, 0), { kind: 'loaded', records: RECORDS });
  const mixed = join(dir, 'mixed.json');
  const items = (JSON.parse(serializeState(RECORDS)) as { targets: unknown[] }).targets;
  writeFileSync(mixed, JSON.stringify({ version: 1, targets: [{ name: 'Bad' }, ...items] }));
  const some = await loadState(mixed, Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.ok(some.kind === 'loaded' && some.rejected !== undefined);
  assert.deepEqual(some.records, RECORDS);
  assert.ok(some.rejected.movedTo.endsWith('mixed.json.rejected-2024-01-02T03-04-05.000Z'));
  assert.deepEqual(JSON.parse(readFileSync(some.rejected.movedTo, 'utf8')), { version: 1, targets: [{ name: 'Bad' }] });
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{oops');
  const got = await loadState(bad, Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(got.kind, 'corrupt');
  assert.ok(got.kind === 'corrupt' && got.movedTo.endsWith('bad.json.corrupt-2024-01-02T03-04-05.000Z'));
  assert.ok(got.kind === 'corrupt' && /not JSON/.test(got.reason));
  assert.equal(readFileSync(join(dir, 'bad.json.corrupt-2024-01-02T03-04-05.000Z'), 'utf8'), '{oops');
  assert.ok(!readdirSync(dir).includes('bad.json'));
});
