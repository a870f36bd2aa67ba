/**
 * kill -9 during inserts leaves a readable flow database: a child process writes flows without
 * pause, is SIGKILLed (by its PID) at a random moment, and the database then passes
 * integrity_check, holds every row the child saw committed, answers queries, and takes writes again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteFlowReader, openSqliteFlowStore } from '../../src/flows/store/sqlite.js';
import { syntheticBatch } from '../fakes/flow-batch.js';
import { memoryLogger } from '../fakes/logger.js';
import { rng } from '../fakes/rng.js';

const WRITER = new URL('./flows-crash-writer.js', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'wpt-flowcrash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer until it reported `minCommitted` rows plus a random extra delay, then SIGKILLs it; the last count it printed. */
async function killWhileWriting(path: string, minCommitted: number, extraMs: number): Promise<number> {
  const child = spawn(process.execPath, [WRITER.pathname, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let committed = 0;
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the writer did not commit ${minCommitted} rows in 60 s: ${err}`)), 60_000);
      let buf = '';
      child.stdout.on('data', (b: Buffer) => {
        buf += b.toString();
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const m = /^committed (\d+)$/.exec(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          if (m !== null) committed = Number(m[1]);
          if (committed >= minCommitted) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
      child.once('exit', () => reject(new Error(`the writer exited early: ${err}`)));
    });
    await new Promise((resolve) => setTimeout(resolve, extraMs));
  } finally {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL');
  return committed;
}

void test('kill -9 during inserts, three times: the database stays readable and keeps every committed row', async () => {
  const path = join(dir, 'crash.db');
  const r = rng(7);
  let previous = 0;
  for (let round = 0; round < 3; round++) {
    const committed = await killWhileWriting(path, 10_000, 50 + r.int(400));
    const db = new Database(path, { fileMustExist: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const rows = db.prepare('SELECT total(flows) FROM chunks').pluck().get() as number;
      assert.ok(rows >= previous + committed, `round ${round}: ${rows} rows, ${previous} before plus ${committed} committed in this run`);
      previous = rows;
    } finally {
      db.close();
    }
    const reader = await openSqliteFlowReader(path, { log: memoryLogger().log });
    try {
      const q = await reader.query({ fromMs: 0, toMs: Date.now() + 1, filter: {}, groupBy: 'src', orderBy: 'bytes', limit: 5 }, 10_000);
      assert.equal(q.totals.flows, previous);
      assert.equal(q.rows.length, 5);
    } finally {
      await reader.close(5000);
    }
  }
  // and the store opens it for writing again
  const store = await openSqliteFlowStore({ config: { path, retention: { max_age: 0, max_bytes: 0 }, batch_size: 1000, flush_interval: 0.1 }, log: memoryLogger().log });
  try {
    const now = Date.now();
    store.write(syntheticBatch(1000, 99, now - 1000, now));
    await store.flush(30_000);
    assert.equal((await store.query({ fromMs: 0, toMs: now + 1, filter: {}, orderBy: 'flows', limit: 1 }, 10_000)).totals.flows, previous + 1000);
  } finally {
    await store.close(10_000);
  }
});
