/**
 * SIGKILL at random points of API writes: `--iterations` times, start wireprobe (API on, state
 * file), let `--writers` concurrent clients create, replace, patch and delete API targets, SIGKILL
 * wireprobe after a random delay, then check that the state file parses (wireprobe's own
 * `parseState`, no rejected record) and holds every acknowledged write (a 2xx received before the
 * kill). Each writer owns one name and has at most one request in flight, so after the kill the
 * file must hold, for each name, either its last acknowledged state or the state of the request
 * that was in flight. The next iteration's start loads that file: the targets wireprobe then
 * lists must be the file's (a start that sets the file aside, or lists other targets, is a
 * violation too).
 *
 * Everything runs in a throw-away lab: the bench re-runs itself inside the probe namespace
 * (`--inner`), spawns wireprobe there and talks to it over loopback; the API targets are
 * addresses of the lab's dead prefix, so no probe leaves the lab.
 *
 *   node dist/bench/kill-writes.js [--iterations 1000] [--writers 8] [--max-kill-ms 400] [--seed 7] [--max-minutes 60]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseState } from '../src/api/state-file.js';
import { createLab, netprobifyConfig, requireRoot, WIREPROBE_MAIN } from '../test/lab/index.js';

const TOKEN = 'bench-kill-writes-write-token-0123456789';
const PORT = 9791;
const BASE = `http://127.0.0.1:${PORT}`;

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '1000' },
    writers: { type: 'string', default: '8' },
    'max-kill-ms': { type: 'string', default: '400' },
    seed: { type: 'string', default: '7' },
    'max-minutes': { type: 'string', default: '60' },
    inner: { type: 'string' },
  },
});

/** A deterministic PRNG (mulberry32), so a failing iteration can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a name holds: absent, or a target whose `timeout` identifies the write that set it. */
type NameState = { readonly present: false } | { readonly present: true; readonly destination: string; readonly timeout: number };
const ABSENT: NameState = { present: false };
const same = (a: NameState, b: NameState): boolean =>
  a.present === b.present && (!a.present || (b.present && a.destination === b.destination && a.timeout === b.timeout));
const show = (s: NameState): string => (s.present ? `${s.destination} timeout ${s.timeout}` : 'absent');

interface Writer {
  readonly name: string;
  acked: NameState;
  /** the state the request in flight would set, if one is in flight */
  inFlight: NameState | null;
}

interface IterationResult {
  readonly acked: number;
  readonly refused: number;
  readonly violations: string[];
  readonly startMs: number;
}

async function request(method: string, path: string, body?: unknown): Promise<number> {
  const r = await fetch(`${BASE}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  await r.arrayBuffer();
  return r.status;
}

/** wireprobe's API targets as it lists them after loading the state file. */
async function listed(): Promise<Map<string, NameState>> {
  const r = await fetch(`${BASE}/api/v1/targets`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(10_000) });
  if (r.status !== 200) throw new Error(`GET /api/v1/targets: ${r.status}`);
  const { targets } = (await r.json()) as { targets: { name: string; origin: string; entry?: { destination?: string; timeout?: number } }[] };
  return new Map(targets.filter((t) => t.origin === 'api').map((t) => [t.name, { present: true, destination: String(t.entry?.destination), timeout: Number(t.entry?.timeout) }]));
}

function fileStates(text: string): Map<string, NameState> {
  const parsed = parseState(text);
  if (parsed.rejected.length > 0) throw new Error(`${parsed.rejected.length} rejected records: ${parsed.rejected[0]?.reason ?? ''}`);
  return new Map(parsed.records.map((r) => [r.name, { present: true, destination: String(r.entry.destination), timeout: Number(r.entry.timeout) }]));
}

async function waitApi(proc: ChildProcess, boundMs: number): Promise<void> {
  const deadline = performance.now() + boundMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`wireprobe exited with ${proc.exitCode} before its API answered`);
    try {
      const r = await fetch(`${BASE}/api/v1/targets`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`the API did not answer within ${boundMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const exited = (p: ChildProcess): Promise<void> => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', () => r())));

/** One writer's next request, chosen from what it knows acknowledged. */
function nextWrite(w: Writer, rnd: () => number, seq: number): { method: string; path: string; body?: unknown; sets: NameState } {
  const destination = `198.18.255.${1 + Math.floor(rnd() * 250)}`;
  // the timeout tells the writes apart: a fresh value per write (milliseconds, 0.001–0.999 s cycling)
  const timeout = (1 + (seq % 999)) / 1000;
  const entry = { type: 'ICMPping', destination, timeout };
  const set: NameState = { present: true, destination, timeout };
  const path = `/api/v1/targets/${w.name}`;
  if (!w.acked.present) return rnd() < 0.5 ? { method: 'POST', path: '/api/v1/targets', body: { name: w.name, ...entry }, sets: set } : { method: 'PUT', path, body: entry, sets: set };
  const x = rnd();
  if (x < 0.35) return { method: 'PUT', path, body: entry, sets: set };
  if (x < 0.7) return { method: 'PATCH', path, body: { timeout }, sets: { ...w.acked, timeout } };
  return { method: 'DELETE', path, sets: ABSENT };
}

async function iteration(configFile: string, state: string, writers: Writer[], rnd: () => number, maxKillMs: number, logTail: string[]): Promise<IterationResult> {
  const violations: string[] = [];
  const t0 = performance.now();
  const proc = spawn(process.execPath, [WIREPROBE_MAIN, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (b: Buffer): void => {
    log = (log + b.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  try {
    await waitApi(proc, 120_000);
  } catch (e) {
    proc.kill('SIGKILL');
    await exited(proc);
    logTail.push(log);
    throw e;
  }
  const startMs = performance.now() - t0;
  // the start loaded the previous iteration's file: it lists exactly the file's targets, and nothing was set aside
  const before = existsSync(state) ? fileStates(readFileSync(state, 'utf8')) : new Map<string, NameState>();
  const now = await listed();
  for (const w of writers) {
    const f = before.get(w.name) ?? ABSENT;
    const l = now.get(w.name) ?? ABSENT;
    if (!same(f, l)) violations.push(`after restart ${w.name}: file ${show(f)}, wireprobe lists ${show(l)}`);
  }
  if (/unreadable|set aside/.test(log)) violations.push(`the start set the state file aside: ${log.slice(-500)}`);
  let acked = 0;
  let refused = 0;
  let seq = Math.floor(rnd() * 1e6);
  let killed = false;
  const loops = writers.map(async (w) => {
    while (!killed) {
      const op = nextWrite(w, rnd, seq++);
      w.inFlight = op.sets;
      let status: number;
      try {
        status = await request(op.method, op.path, op.body);
      } catch {
        return; // the kill cut the connection: the write stays in flight
      }
      if (status >= 200 && status < 300) {
        if (killed) return; // answered, but the answer was read after the kill: still in flight for the check
        w.acked = op.sets;
        w.inFlight = null;
        acked++;
      } else {
        // a refused write (4xx/5xx) is not saved: the name keeps its acknowledged state
        refused++;
        w.inFlight = null;
      }
    }
  });
  await new Promise((r) => setTimeout(r, rnd() * maxKillMs));
  killed = true;
  proc.kill('SIGKILL');
  await exited(proc);
  await Promise.all(loops);
  // the file after the kill: parses, and holds for each name its acknowledged state or the in-flight one
  let after: Map<string, NameState>;
  try {
    after = existsSync(state) ? fileStates(readFileSync(state, 'utf8')) : new Map<string, NameState>();
  } catch (e) {
    violations.push(`state file unusable after the kill: ${e instanceof Error ? e.message : String(e)}`);
    return { acked, refused, violations, startMs };
  }
  for (const w of writers) {
    const f = after.get(w.name) ?? ABSENT;
    if (same(f, w.acked)) {
      w.inFlight = null;
    } else if (w.inFlight !== null && same(f, w.inFlight)) {
      w.acked = w.inFlight; // the write in flight was saved: it is what the file now holds
      w.inFlight = null;
    } else {
      violations.push(`${w.name}: file ${show(f)}, acknowledged ${show(w.acked)}${w.inFlight === null ? '' : `, in flight ${show(w.inFlight)}`}`);
      w.acked = f; // go on from what the file holds
      w.inFlight = null;
    }
  }
  for (const name of after.keys()) if (!writers.some((w) => w.name === name)) violations.push(`unknown target ${name} in the file`);
  return { acked, refused, violations, startMs };
}

async function inner(dir: string): Promise<void> {
  const iterations = Number(values.iterations);
  const maxKillMs = Number(values['max-kill-ms']);
  const deadline = performance.now() + Number(values['max-minutes']) * 60_000;
  const rnd = prng(Number(values.seed));
  const state = join(dir, 'api-state.json');
  const configFile = join(dir, 'kill-writes.yaml');
  const yaml =
    netprobifyConfig({ global: { interval: 10, prometheus_port: PORT }, targets: { own: { type: 'ICMPping', destination: '198.19.16.9', timeout: 0.5 } } }) +
    `api:\n  max_targets: 100\n  tokens: [{token: ${TOKEN}, scope: write}]\n  state_file: ${JSON.stringify(state)}\n`;
  writeFileSync(configFile, yaml);
  const writers: Writer[] = Array.from({ length: Number(values.writers) }, (_, i) => ({ name: `kw${i}`, acked: ABSENT, inFlight: null }));
  const t0 = performance.now();
  let done = 0;
  let acked = 0;
  let refused = 0;
  const violations: string[] = [];
  const starts: number[] = [];
  const logTail: string[] = [];
  for (; done < iterations && performance.now() < deadline; done++) {
    let r: IterationResult;
    try {
      r = await iteration(configFile, state, writers, rnd, maxKillMs, logTail);
    } catch (e) {
      process.stderr.write(`kill-writes: iteration ${done + 1}: ${e instanceof Error ? e.message : String(e)}\nwireprobe log (tail):\n${logTail.at(-1)?.slice(-3000) ?? ''}\n`);
      throw e;
    }
    acked += r.acked;
    refused += r.refused;
    starts.push(r.startMs);
    for (const v of r.violations) violations.push(`iteration ${done + 1}: ${v}`);
    if ((done + 1) % 50 === 0) process.stderr.write(`kill-writes: ${done + 1} iterations, ${acked} acknowledged writes, ${violations.length} violations\n`);
  }
  const leftovers = readdirSync(dir).filter((n) => n.includes('.corrupt-') || n.includes('.rejected-'));
  starts.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({
      iterations: done,
      requested: iterations,
      writers: writers.length,
      acknowledgedWrites: acked,
      refusedWrites: refused,
      violations: violations.length,
      filesSetAside: leftovers.length,
      elapsedS: Math.round((performance.now() - t0) / 100) / 10,
      startMsMedian: Math.round(starts[Math.floor(starts.length / 2)] ?? Number.NaN),
      startMsMax: Math.round(starts.at(-1) ?? Number.NaN),
      firstViolations: violations.slice(0, 10),
    })}\n`,
  );
}

async function main(): Promise<number> {
  requireRoot();
  const lab = await createLab({ name: 'kill-writes' });
  try {
    const dir = join(lab.tmpDir, 'kill-writes');
    rmSync(dir, { recursive: true, force: true });
    const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const self = fileURLToPath(import.meta.url);
    const argv = [process.execPath, self, '--inner', dir, ...process.argv.slice(2)];
    mkdirSync(dir, { recursive: true });
    const r = await lab.exec('probe', argv, { timeoutMs: (Number(values['max-minutes']) + 5) * 60_000 });
    process.stderr.write(r.stderr);
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    if (!last.startsWith('{')) throw new Error(`the inner run failed (exit ${r.code}): ${r.stdout.slice(-2000)}`);
    const out = { ...(JSON.parse(last) as { violations: number; filesSetAside: number; iterations: number; requested: number }), load: { start: load0, end: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') } };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    const ok = out.violations === 0 && out.filesSetAside === 0 && out.iterations === out.requested;
    process.stdout.write(`${ok ? 'PASS' : 'FAIL'}\n`);
    return ok ? 0 : 1;
  } finally {
    await lab.destroy();
  }
}

if (values.inner !== undefined) await inner(values.inner);
else process.exitCode = await main();
