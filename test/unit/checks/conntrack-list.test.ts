import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FlowAggregate } from '../../../src/checks/conntrack-flows.js';
import { LineBatcher, listFlows } from '../../../src/checks/conntrack-list.js';
import { ErrorCodes, isAppError } from '../../../src/lib/errors.js';
import { streamCommand } from '../../../src/lib/exec.js';
import { createWorkerPool, type WorkerPool } from '../../../src/workers/pool.js';

const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/conntrack/', import.meta.url));
const fixture = (name: string): string => readFileSync(FIXTURES + name, 'latin1');

void describe('LineBatcher', () => {
  void it('emits batches that end at a newline and loses no byte', () => {
    let allocs = 0;
    const b = new LineBatcher(() => {
      allocs++;
      return new Uint8Array(16);
    });
    const text = 'aaaa\nbbbbbbbbbb\ncc\ndddddddddddddddddddd\ne';
    const out: string[] = [];
    for (let i = 0; i < text.length; i += 3) {
      for (const batch of b.push(Buffer.from(text.slice(i, i + 3)))) out.push(Buffer.from(batch).toString());
    }
    const rest = b.flush();
    if (rest !== undefined) out.push(Buffer.from(rest).toString());
    assert.equal(out.join(''), text);
    // a line longer than a buffer is cut; every other batch ends at a newline
    assert.deepEqual(out, ['aaaa\nbbbbbbbbbb\n', 'cc\n', 'dddddddddddddddd', 'dddd\ne']);
    assert.equal(b.flush(), undefined);
    assert.ok(allocs <= out.length + 1);
  });
});

void describe('listFlows (real child process, real worker pool)', () => {
  let pool: WorkerPool;
  let dir: string;
  before(() => {
    pool = createWorkerPool({ minThreads: 1, maxThreads: 2 });
    dir = mkdtempSync(join(tmpdir(), 'wptc-list-'));
  });
  after(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const opts = { signal: new AbortController().signal, timeoutMs: 20_000, batchBytes: 8192, maxInFlight: 3 };

  void it('streams many small batches through the pool and agrees with direct parsing', async () => {
    const text = fixture('list-acct.txt').repeat(500) + fixture('list-noacct.txt').repeat(500) + fixture('list-malformed.txt');
    const file = join(dir, 'list.txt');
    writeFileSync(file, text, 'latin1');
    const before = pool.completed();
    const out = await listFlows(['cat', file], streamCommand, pool, opts);
    assert.equal(out.code, 0);
    assert.equal(out.bytes, text.length);
    assert.ok(pool.completed() - before >= Math.floor(text.length / 8192), 'one task per batch');
    const direct = new FlowAggregate();
    direct.addText(text);
    assert.equal(out.aggregate.flows, 500 * 12 + 2);
    assert.equal(out.aggregate.flows, direct.flows);
    assert.equal(out.aggregate.counted, direct.counted);
    assert.equal(out.aggregate.malformed, 7);
    for (const key of ['flows', 'bytes', 'packets'] as const) {
      assert.deepEqual(out.aggregate.sources.top(key, 5), direct.sources.top(key, 5));
      assert.deepEqual(out.aggregate.destinations.top(key, 5), direct.destinations.top(key, 5));
    }
  });

  void it('reports the exit code and stderr of a failing command', async () => {
    const out = await listFlows(['sh', '-c', 'echo "oops" >&2; exit 3'], streamCommand, pool, opts);
    assert.equal(out.code, 3);
    assert.match(out.stderr, /oops/);
    assert.equal(out.aggregate.flows, 0);
  });

  void it('rejects with coded errors for a missing binary and an aborted run', async () => {
    await assert.rejects(listFlows(['/nonexistent/conntrack', '-L'], streamCommand, pool, opts), (e) => isAppError(e, ErrorCodes.EXEC_ERR_SPAWN));
    const ac = new AbortController();
    const run = listFlows(['sh', '-c', 'while :; do echo "udp 17 1 src=198.18.0.1 dst=198.18.0.2 src=198.18.0.2 dst=198.18.0.1"; done'], streamCommand, pool, {
      ...opts,
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(run, (e) => isAppError(e, ErrorCodes.OP_ERR_TIMEOUT));
  });
});
