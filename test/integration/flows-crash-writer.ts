// Child process of flows-sqlite-crash.test.ts: writes flows into the SQLite store as fast as it
// can and prints `committed N` after each flush, until it is killed.
import { openSqliteFlowStore } from '../../src/flows/store/sqlite.js';
import { createLogger } from '../../src/lib/logger.js';
import { syntheticBatch } from '../fakes/flow-batch.js';

const path = process.argv[2]!;
const store = await openSqliteFlowStore({
  config: { path, retention: { max_age: 0, max_bytes: 0 }, batch_size: 2000, flush_interval: 0.05 },
  log: createLogger((l) => process.stderr.write(`${l}\n`), 'warn'),
});
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const now = Date.now();
  for (let k = 0; k < 5; k++) store.write(syntheticBatch(1000, i * 5 + k, now - 1000, now));
  await store.flush(30_000);
  process.stdout.write(`committed ${store.stats().written}\n`);
}
