/**
 * The client side of bench/api-hostile.ts, run inside the lab's probe namespace:
 * `node api-hostile-client.js <base url> <count> <seed> <read token> <write token> <concurrency>`.
 * Sends the seeded hostile requests (test/integration/hostile-requests.ts) and prints one JSON
 * line: status counts, the problems found (5xx, non-JSON errors), the elapsed time.
 */
import { hostileRequests, replyProblem, sendAll, statusCounts } from '../test/integration/hostile-requests.js';

const [base, count, seed, read, write, concurrency] = process.argv.slice(2);
if (base === undefined || write === undefined || read === undefined) {
  process.stderr.write('usage: api-hostile-client <base url> <count> <seed> <read token> <write token> [concurrency]\n');
  process.exit(2);
}
const requests = hostileRequests(Number(count), Number(seed), { read, write });
const start = Date.now();
const replies = await sendAll(new URL(base), requests, Number(concurrency ?? 16));
const problems = requests
  .map((q, i) => ({ q, p: replyProblem(q, replies[i]!) }))
  .filter((x) => x.p !== null)
  .map(({ q, p }) => `${q.method} ${q.path.slice(0, 80)} (${q.what}): ${p}`);
process.stdout.write(`${JSON.stringify({ counts: statusCounts(replies), problems: problems.slice(0, 50), problemCount: problems.length, elapsedMs: Date.now() - start })}\n`);
