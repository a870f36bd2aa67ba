/**
 * The state file: API targets survive a restart; a corrupt file is set aside and reported,
 * never overwritten; a failed write refuses the change; expired targets are dropped at load.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FakeClock } from '../fakes/clock.js';
import { call, codeOf, configText, startApi, TOKENS_API, WRITE_TOKEN, type Harness } from './api-harness.js';

const W = { token: WRITE_TOKEN };
const dir = mkdtempSync(join(tmpdir(), 'wpt-api-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const withState = (file: string, extra = ''): string => configText(`${TOKENS_API}\n  state_file: ${join(dir, file)}${extra}`);
const names = async (h: Harness): Promise<string[]> =>
  ((await call(h, 'GET', '/api/v1/targets?origin=api', W)).body as { targets: { name: string }[] }).targets.map((t) => t.name);

void test('a restart keeps the API targets, with their entries and expiry', async () => {
  const clock = new FakeClock();
  const first = await startApi(withState('keep.json', '\n  max_lifetime: 3600'), { clock });
  await call(first, 'POST', '/api/v1/targets', { ...W, body: { name: 'a', type: 'ICMPping', destination: '198.18.3.1', lifetime: 600 } });
  await call(first, 'POST', '/api/v1/targets', { ...W, body: { name: 'b', type: 'TCPsyn', destination: '198.18.3.2', dst_port: 22 } });
  await call(first, 'DELETE', '/api/v1/targets/a', W);
  await call(first, 'PUT', '/api/v1/targets/a', { ...W, body: { type: 'ICMPping', destination: '198.18.3.3', lifetime: 600 } });
  const before = (await call(first, 'GET', '/api/v1/targets/a', W)).body;
  await first.close();
  const saved = JSON.parse(readFileSync(join(dir, 'keep.json'), 'utf8')) as { version: number; targets: { name: string }[] };
  assert.equal(saved.version, 1);
  assert.deepEqual(saved.targets.map((t) => t.name).sort(), ['a', 'b']);

  const second = await startApi(withState('keep.json', '\n  max_lifetime: 3600'), { clock });
  try {
    assert.deepEqual(await names(second), ['a', 'b']);
    assert.deepEqual((await call(second, 'GET', '/api/v1/targets/a', W)).body, before);
    assert.deepEqual(second.sources.names('api'), ['a', 'b'], 'handed to the prober at start');
    await clock.advance(600_000);
    assert.deepEqual(second.sources.names('api'), ['b']);
  } finally {
    await second.close();
  }
  const third = await startApi(withState('keep.json', '\n  max_lifetime: 3600'), { clock });
  try {
    assert.deepEqual(await names(third), ['b'], 'the expiry was saved');
  } finally {
    await third.close();
  }
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), [], 'no temporary file left');
});

void test('targets that expired while stopped are dropped at start', async () => {
  const clock = new FakeClock();
  const first = await startApi(withState('late.json', '\n  max_lifetime: 60'), { clock });
  await call(first, 'POST', '/api/v1/targets', { ...W, body: { name: 'late', type: 'ICMPping', destination: '198.18.3.4' } });
  await first.close();
  clock.wallBase += 120_000;
  const second = await startApi(withState('late.json', '\n  max_lifetime: 60'), { clock });
  try {
    assert.deepEqual(await names(second), []);
    assert.deepEqual(second.sources.names('api'), []);
  } finally {
    await second.close();
  }
});

for (const [what, text] of [
  ['truncated JSON', '{"version": 1, "targets": [{"name": "a"'],
  ['a wrong version', '{"version": 99, "targets": []}'],
  ['binary garbage', '\u0000\u0001\u0002'],
] as const) {
  void test(`a state file with ${what} is set aside and reported; the API works`, async () => {
    const file = join(dir, `corrupt-${what.replaceAll(' ', '-')}.json`);
    writeFileSync(file, text);
    const h = await startApi(configText(`${TOKENS_API}\n  state_file: ${file}`));
    try {
      const aside = readdirSync(dir).filter((n) => n.startsWith(`corrupt-${what.replaceAll(' ', '-')}.json.corrupt-`));
      assert.equal(aside.length, 1);
      assert.equal(readFileSync(join(dir, aside[0]!), 'utf8'), text, 'kept byte for byte');
      assert.match(await h.registry.metrics(), /wireprobe_api_state_load_errors_total 1/);
      assert.ok(h.lines.some((l) => l.includes('level=error') && l.includes('reason=') && l.includes('moved_to=')));
      const r = await call(h, 'POST', '/api/v1/targets', { ...W, body: { name: 'new', type: 'ICMPping', destination: '198.18.3.5' } });
      assert.equal(r.status, 201);
      assert.equal(readFileSync(join(dir, aside[0]!), 'utf8'), text, 'the set-aside file is never overwritten');
    } finally {
      await h.close();
    }
  });
}

void test('a state file with bad records loads the good ones and sets the bad ones aside, as they were', async () => {
  const file = join(dir, 'mixed.json');
  const good = { name: 'good', entry: { type: 'ICMPping', destination: '198.18.3.10' }, created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z', expires_at: null };
  const bad = [{ name: 'A B', entry: {} }, { ...good, name: '..' }, 7, { ...good, entry: [] }, { ...good, created_at: 'yesterday', name: 'late' }];
  writeFileSync(file, JSON.stringify({ version: 1, targets: [bad[0], good, ...bad.slice(1)] }));
  const h = await startApi(configText(`${TOKENS_API}\n  state_file: ${file}`));
  try {
    assert.deepEqual(h.sources.names('api'), ['good']);
    const aside = readdirSync(dir).filter((n) => n.startsWith('mixed.json.rejected-'));
    assert.equal(aside.length, 1);
    assert.deepEqual((JSON.parse(readFileSync(join(dir, aside[0]!), 'utf8')) as { targets: unknown[] }).targets, bad);
    assert.match(await h.registry.metrics(), /wireprobe_api_state_load_errors_total 1/);
    assert.ok(h.lines.some((l) => l.includes('bad records set aside') && l.includes('rejected=5')));
    const kept = JSON.parse(readFileSync(file, 'utf8')) as { targets: { name: string }[] };
    assert.deepEqual(kept.targets.map((x) => x.name), ['good'], 'the state file keeps only the good records');
  } finally {
    await h.close();
  }
});

void test('an entry that no longer validates is kept in the file, reported and not probed', async () => {
  const file = join(dir, 'stale.json');
  const stored = { version: 1, targets: [
    { name: 'ok', entry: { type: 'ICMPping', destination: '198.18.3.6' }, created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z', expires_at: null },
    { name: 'gone', entry: { type: 'ICMPping', destination: '198.18.3.7', explicit_groups: { register_to: ['removed'] } }, created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z', expires_at: null },
  ] };
  writeFileSync(file, JSON.stringify(stored));
  const h = await startApi(configText(`${TOKENS_API}\n  state_file: ${file}`));
  try {
    assert.deepEqual(h.sources.names('api'), ['ok']);
    assert.equal(((await call(h, 'GET', '/api/v1/targets/gone', W)).body as { status: string }).status, 'invalid');
    assert.ok(h.lines.some((l) => l.includes('target=gone') && l.includes('does not exist')));
    await call(h, 'DELETE', '/api/v1/targets/ok', W);
    const left = JSON.parse(readFileSync(file, 'utf8')) as { targets: { name: string }[] };
    assert.deepEqual(left.targets.map((t) => t.name), ['gone']);
  } finally {
    await h.close();
  }
});

void test('a state directory that is missing at start fails start() with API_ERR_STATE_FILE', async () => {
  const h = await startApi(configText(`${TOKENS_API}\n  state_file: ${join(dir, 'missing', 'state.json')}`), { start: false });
  try {
    await assert.rejects(h.api.start(), { code: 'API_ERR_STATE_FILE' });
  } finally {
    await h.close();
  }
});

void test('a failed state write refuses the change (503 API_ERR_STATE_WRITE) and keeps the old state', async () => {
  const sub = join(dir, 'vanishing');
  mkdirSync(sub);
  const h = await startApi(configText(`${TOKENS_API}\n  state_file: ${join(sub, 'state.json')}`));
  try {
    assert.equal((await call(h, 'POST', '/api/v1/targets', { ...W, body: { name: 'one', type: 'ICMPping', destination: '198.18.3.8' } })).status, 201);
    rmSync(sub, { recursive: true });
    const r = await call(h, 'POST', '/api/v1/targets', { ...W, body: { name: 'two', type: 'ICMPping', destination: '198.18.3.9' } });
    assert.equal(r.status, 503);
    assert.equal(codeOf(r), 'API_ERR_STATE_WRITE');
    assert.deepEqual(await names(h), ['one']);
    assert.deepEqual(h.sources.names('api'), ['one']);
    assert.match(await h.registry.metrics(), /wireprobe_api_state_write_errors_total 1/);
  } finally {
    await h.close();
  }
});

void test('concurrent writes are applied one at a time: the cap holds and the file matches memory', async () => {
  const file = join(dir, 'race.json');
  const h = await startApi(configText(`${TOKENS_API}\n  max_targets: 10\n  state_file: ${file}`));
  try {
    const replies = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        call(h, 'POST', '/api/v1/targets', { ...W, body: { name: `r${i}`, type: 'ICMPping', destination: `198.18.5.${i + 1}` } }),
      ),
    );
    const statuses = replies.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 10);
    assert.equal(statuses.filter((s) => s === 409).length, 15);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { targets: { name: string }[] };
    assert.deepEqual(saved.targets.map((t) => t.name).sort(), (await names(h)).sort());
    assert.equal(h.sources.names('api').length, 10);
  } finally {
    await h.close();
  }
});
