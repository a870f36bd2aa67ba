/**
 * Reload churn under probing: wireprobe probes `--targets` unchanged ICMP targets (1 probe each
 * per `--interval` s) in a throw-away lab while a client in the probe namespace makes
 * `--reloads` reloads, alternating good and bad: the config file is rewritten (temporary file and
 * rename), then POST /-/reload. A good file adds a new churn target (and drops the previous one);
 * a bad one (YAML syntax error, negative nb_packets, mistyped timeout, truncated file, in turn) names another
 * churn target that must never appear. After every reload the client checks the answer (200 for a
 * good file, 422 for a bad one) and that the targets wireprobe lists (GET /api/v1/targets) are
 * exactly the last good file's, and reads wireprobe's VmRSS.
 *
 * Wire truth: tcpdump in the target namespace records every echo request; per unchanged target the
 * bench prints the longest gap between two consecutive requests during the churn against the
 * interval, and the gaps longer than 1.5 intervals (a round missed or delayed by half an interval).
 * RSS growth: the mean over the last 10 % of the reloads against the first 10 % (the PASS figure),
 * and the drift as soak.ts reports it (last quarter against second quarter); growth also over the
 * samples taken with no worker thread alive (the thread count at its minimum: the config thread
 * or a pool worker adds its heap to the RSS while it lives), over those taken with one alive, and
 * the share of samples with one alive over the first and the last 10 %. A preloaded module
 * (bench/heap-probe.ts) writes the main thread's V8 heap (with its old and code spaces) and each
 * live worker thread's, read with RSS and threads into a curve every `--curve-every` reloads, and
 * the main thread's full collections (the heap compactions after reloads among them): how many
 * ended during the churn, their total and longest pause.
 * `--after-s`: RSS and main heap once more that long after the churn (is the growth given back?). `--heap-snapshots DIR`: heap snapshots of the main thread (by
 * the preloaded module) at the first curve point and the last reload; a snapshot stops the event
 * loop for seconds, so the wire gaps of such a run do not count. `--main`: another build.
 * wireprobe starts as packaged (test/lab/packaged-runtime.ts: its node flags and malloc settings);
 * `--node-options` replaces the flags.
 *
 *   node dist/bench/reload-churn.js [--reloads 1000] [--targets 50] [--interval 1] [--pause-ms 0] [--max-minutes 20]
 *     [--after-s 20] [--curve-every 50] [--heap-snapshots DIR] [--main /other/dist/src/main.js] [--node-options "…"]
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLab, labIpv4Targets, netprobifyConfig, PACKAGED_NODE_FLAGS, packagedEnv, readPcap, requireRoot, requireTools, sleep, startWireprobe, targetName, TCPDUMP } from '../test/lab/index.js';
import { echoInFrame } from '../test/lab/ip-packet.js';
import { installHeapProbe, readHeapProbe, readWorkerHeaps, requestHeapSnapshot, type HeapSpaces } from './heap-probe.js';
import { findProcess } from './proc-stats.js';

const READ = 'bench-churn-read-token-0123456789';
const WRITE = 'bench-churn-write-token-0123456789';
const PORT = 9793;

const { values } = parseArgs({
  options: {
    reloads: { type: 'string', default: '1000' },
    targets: { type: 'string', default: '50' },
    interval: { type: 'string', default: '1' },
    'pause-ms': { type: 'string', default: '0' },
    baseline: { type: 'string', default: '30' },
    'max-minutes': { type: 'string', default: '20' },
    'after-s': { type: 'string', default: '20' },
    'curve-every': { type: 'string', default: '50' },
    'heap-snapshots': { type: 'string' },
    main: { type: 'string' },
    'node-options': { type: 'string' },
    inner: { type: 'string' },
  },
});

const num = (name: keyof typeof values): number => {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: expected a number ≥ 0`);
  return v;
};

const churnAddress = (k: number): string => `198.19.250.${1 + (k % 250)}`;

/** The config of reload `k` (0: the start); good when k is even. */
function configText(addresses: readonly string[], intervalS: number, k: number): { text: string; good: boolean; churn: string } {
  const good = k % 2 === 0;
  const churn = `${good ? 'c' : 'x'}${k}`;
  const targets: Record<string, { type: 'ICMPping'; destination: string } & Record<string, unknown>> = {};
  addresses.forEach((destination, i) => {
    targets[targetName(i + 1, 'u')] = { type: 'ICMPping', destination, timeout: 0.5 };
  });
  const kind = (k >> 1) % 4;
  targets[churn] = { type: 'ICMPping', destination: churnAddress(k), timeout: 0.5, ...(!good && kind === 1 ? { nb_packets: -1 } : {}), ...(!good && kind === 2 ? { timeout: 'slow' } : {}) };
  let text =
    netprobifyConfig({ global: { interval: intervalS, prometheus_port: PORT, logging_level: 'WARNING' }, targets }) +
    `api:\n  tokens: [{token: ${READ}, scope: read}, {token: ${WRITE}, scope: write}]\n`;
  if (!good && kind === 0) text += 'targets: [unclosed\n';
  // truncated inside a target, just after its `type:` key: a cut between two targets would be a
  // valid, smaller file (with 10 000 targets, 60 % of the file is 6 013 of them and no api section)
  if (!good && kind === 3) text = text.slice(0, text.lastIndexOf('type:', Math.floor(text.length * 0.6)) + 'type:'.length);
  return { text, good, churn };
}

interface InnerResult {
  reloads: number;
  goodOk: number;
  badRefused: number;
  wrongAnswers: string[];
  wrongTargets: string[];
  rssKb: number[];
  /** the thread count of wireprobe with each RSS sample */
  threads: number[];
  curve: CurvePoint[];
  churnStartMs: number;
  churnEndMs: number;
  reloadMsMedian: number;
  reloadMsMax: number;
  /** per reload: its number, good or bad, and when it was asked and answered (Unix ms) */
  events: [number, boolean, number, number][];
}

interface CurvePoint {
  reload: number;
  rssMb: number;
  threads: number;
  /** the main thread's V8 heap (bench/heap-probe.ts), sampled every 500 ms */
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  mallocedMb: number;
  detachedContexts: number;
  /** the main thread's old and code spaces, committed */
  mainOldMb: number;
  mainCodeMb: number;
  /** the live worker threads (the config thread, idle between reloads): their heaps, committed */
  workers: number;
  workerHeapTotalMb: number;
  workerOldMb: number;
  workerCodeMb: number;
}

/** the committed bytes of heap space `name` (code: with its large objects) */
const spaceBytes = (s: HeapSpaces | undefined, name: 'old' | 'code'): number =>
  s === undefined ? Number.NaN : (s[name]?.[0] ?? 0) + (name === 'code' ? (s.code_large_object?.[0] ?? 0) : 0);

function statusOf(pid: number): { rssKb: number; threads: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? Number.NaN), threads: Number(/Threads:\s+(\d+)/.exec(text)?.[1] ?? Number.NaN) };
}

const mb1 = (bytes: number): number => Math.round(bytes / 1e5) / 10;

/** The reload loop, inside the probe namespace. */
/** `file`: the JSON of the client's task (a file: with 10 000 targets it is over the kernel's limit for one argument) */
async function inner(file: string): Promise<void> {
  const o = JSON.parse(readFileSync(file, 'utf8')) as {
    file: string; baseUrl: string; pid: number; reloads: number; addresses: string[]; intervalS: number; pauseMs: number; deadlineMs: number;
    heapFile: string; curveEvery: number; snapshotDir: string | null;
  };
  const base = new Set(o.addresses.map((_, i) => targetName(i + 1, 'u')));
  const r: InnerResult = { reloads: 0, goodOk: 0, badRefused: 0, wrongAnswers: [], wrongTargets: [], rssKb: [], threads: [], curve: [], churnStartMs: Date.now(), churnEndMs: 0, reloadMsMedian: 0, reloadMsMax: 0, events: [] };
  const times: number[] = [];
  let lastGood = 'c0';
  for (let k = 1; k <= o.reloads && Date.now() < o.deadlineMs; k++) {
    const c = configText(o.addresses, o.intervalS, k);
    writeFileSync(`${o.file}.tmp`, c.text);
    renameSync(`${o.file}.tmp`, o.file);
    const t0 = performance.now();
    const w0 = Date.now();
    const res = await fetch(`${o.baseUrl}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${WRITE}` }, signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    times.push(performance.now() - t0);
    r.events.push([k, c.good, w0, Date.now()]);
    if (c.good && res.status === 200) {
      r.goodOk++;
      lastGood = c.churn;
    } else if (!c.good && res.status === 422) r.badRefused++;
    else if (r.wrongAnswers.length < 20) r.wrongAnswers.push(`reload ${k} (${c.good ? 'good' : 'bad'}): ${res.status} ${body.slice(0, 200)}`);
    // the running targets are the last good file's, exactly
    const l = await fetch(`${o.baseUrl}/api/v1/targets?origin=file`, { headers: { authorization: `Bearer ${READ}` }, signal: AbortSignal.timeout(30_000) });
    const names = ((await l.json()) as { targets: { name: string; origin: string }[] }).targets.filter((t) => t.origin === 'file').map((t) => t.name);
    const want = new Set([...base, lastGood]);
    if (names.length !== want.size || names.some((n) => !want.has(n))) {
      if (r.wrongTargets.length < 20) r.wrongTargets.push(`after reload ${k}: ${names.filter((n) => !base.has(n)).join(',')} (${names.length} targets; expected ${lastGood} and the ${base.size} unchanged)`);
    }
    const st = statusOf(o.pid);
    r.rssKb.push(st.rssKb);
    r.threads.push(st.threads);
    r.reloads = k;
    const last = k === o.reloads || Date.now() >= o.deadlineMs;
    if (o.curveEvery > 0 && (k % o.curveEvery === 0 || last)) {
      const h = readHeapProbe(o.heapFile);
      const ws = readWorkerHeaps(o.heapFile, 1500);
      const sum = (f: (w: (typeof ws)[number]) => number): number => mb1(ws.reduce((a, w) => a + f(w), 0));
      r.curve.push({
        reload: k, rssMb: Math.round(st.rssKb / 102.4) / 10, threads: st.threads,
        heapUsedMb: mb1(h?.heapUsed ?? Number.NaN), heapTotalMb: mb1(h?.heapTotal ?? Number.NaN), externalMb: mb1(h?.external ?? Number.NaN),
        mallocedMb: mb1(h?.v8.malloced_memory ?? Number.NaN), detachedContexts: h?.v8.number_of_detached_contexts ?? Number.NaN,
        mainOldMb: mb1(spaceBytes(h?.spaces, 'old')), mainCodeMb: mb1(spaceBytes(h?.spaces, 'code')),
        workers: ws.length, workerHeapTotalMb: sum((w) => w.v8.total_heap_size), workerOldMb: sum((w) => spaceBytes(w.spaces, 'old')), workerCodeMb: sum((w) => spaceBytes(w.spaces, 'code')),
      });
    }
    if (o.snapshotDir !== null && (k === o.curveEvery || last)) requestHeapSnapshot(o.heapFile, join(o.snapshotDir, `reload-${k}.heapsnapshot`));
    if (o.pauseMs > 0) await sleep(o.pauseMs);
  }
  r.churnEndMs = Date.now();
  times.sort((a, b) => a - b);
  r.reloadMsMedian = Math.round(times[Math.floor(times.length / 2)] ?? Number.NaN);
  r.reloadMsMax = Math.round(times.at(-1) ?? Number.NaN);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

/** RSS (kB samples, in order): mean of the last 10 % against the first 10 %, in MB */
function growth(kb: readonly number[]): { first10pct: number; last10pct: number; growthPct: number } {
  const tenth = Math.max(1, Math.floor(kb.length / 10));
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const first = mean(kb.slice(0, tenth)) / 1024;
  const last = mean(kb.slice(-tenth)) / 1024;
  return { first10pct: Math.round(first * 10) / 10, last10pct: Math.round(last * 10) / 10, growthPct: Math.round((10_000 * (last - first)) / first) / 100 };
}

/**
 * RSS drift as soak.ts reports it: the mean of the last quarter of the samples against the second
 * quarter, so that the warm-up (the config thread starting at the first reload, its heap and the
 * code it compiles) is not counted as growth; growth() above counts it.
 */
function drift(kb: readonly number[]): { secondQuarter: number; lastQuarter: number; driftPct: number } {
  const q = Math.max(1, Math.floor(kb.length / 4));
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const early = mean(kb.slice(q, 2 * q)) / 1024;
  const late = mean(kb.slice(-q)) / 1024;
  return { secondQuarter: Math.round(early * 10) / 10, lastQuarter: Math.round(late * 10) / 10, driftPct: Math.round((10_000 * (late - early)) / early) / 100 };
}

interface GapStats {
  requests: number;
  silentTargets: number;
  maxGapS: number;
  gapP99S: number;
  gapsOver1_5Intervals: number;
  /** the long gaps (first 10): length, and the reloads asked or answered within them */
  longGaps: string[];
}

/** Per target, the gaps between consecutive requests within [fromMs, toMs], edges included. */
function gapStats(byTarget: Map<string, number[]>, fromMs: number, toMs: number, intervalS: number, events: InnerResult['events']): GapStats {
  const s: GapStats = { requests: 0, silentTargets: 0, maxGapS: 0, gapP99S: 0, gapsOver1_5Intervals: 0, longGaps: [] };
  const gaps: number[] = [];
  for (const [dst, ts] of byTarget) {
    ts.sort((a, b) => a - b);
    s.requests += ts.length;
    if (ts.length === 0) s.silentTargets++;
    // the edges count too: from the window's start to the first request, from the last to its end
    const edges = [fromMs, ...ts, toMs];
    for (let i = 1; i < edges.length; i++) {
      const g = edges[i]! - edges[i - 1]!;
      if (i > 1 && i < edges.length - 1) gaps.push(g);
      s.maxGapS = Math.max(s.maxGapS, g / 1000);
      if (g > 1.5 * intervalS * 1000) {
        s.gapsOver1_5Intervals++;
        if (s.longGaps.length < 10) {
          const within = events.filter(([, , a, b]) => b >= edges[i - 1]! && a <= edges[i]!).map(([k, good]) => `${k}${good ? '' : ' (bad)'}`);
          s.longGaps.push(`${dst}: ${(g / 1000).toFixed(3)} s at +${((edges[i - 1]! - fromMs) / 1000).toFixed(1)} s; reloads ${within.join(', ') || 'none'}`);
        }
      }
    }
  }
  gaps.sort((a, b) => a - b);
  s.gapP99S = Math.round(gaps[Math.floor(gaps.length * 0.99)] ?? Number.NaN) / 1000;
  s.maxGapS = Math.round(s.maxGapS * 1000) / 1000;
  return s;
}

async function main(): Promise<number> {
  requireRoot();
  requireTools([TCPDUMP, { bin: 'nft', pkg: 'nftables' }]);
  const reloads = num('reloads');
  const n = num('targets');
  const intervalS = num('interval');
  const maxMinutes = num('max-minutes');
  const addresses = labIpv4Targets(n);
  const lab = await createLab({ name: 'reload-churn' });
  const bound = setTimeout(() => {
    process.stderr.write('reload-churn: over its time bound, destroying the lab\n');
    void lab.destroy().finally(() => process.exit(3));
  }, (maxMinutes * 60 + 300) * 1000);
  try {
    const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const pcapFile = join(lab.tmpDir, 'churn.pcap');
    const tcpdump = lab.spawn('target', ['tcpdump', '-i', 'wpt-target', '-n', '-p', '-s', '96', '-B', '16384', '--time-stamp-precision=nano', '-U', '-w', pcapFile, 'icmp[icmptype] == icmp-echo']);
    await tcpdump.waitForOutput(/listening on/, 10_000);
    const probe = installHeapProbe(lab.tmpDir, 'churn');
    const snapshotDir = values['heap-snapshots'] === undefined ? undefined : resolve(values['heap-snapshots']);
    if (snapshotDir !== undefined) mkdirSync(snapshotDir, { recursive: true });
    const nodeOptions = `${values['node-options'] ?? PACKAGED_NODE_FLAGS.join(' ')} --import=${probe.module}`.trim();
    const wp = await startWireprobe(lab, configText(addresses, intervalS, 0).text, {
      readyTimeoutMs: 120_000,
      env: packagedEnv(nodeOptions),
      ...(values.main === undefined ? {} : { main: resolve(values.main) }),
    });
    const pid = (await findProcess(wp.process.pid, 'node', 2000)) ?? wp.process.pid;
    await sleep(3 * intervalS * 1000);
    // the control: the same gaps over a window without reloads, just before the churn
    const baseStartMs = Date.now();
    await sleep(num('baseline') * 1000);
    const baseEndMs = Date.now();
    const self = fileURLToPath(import.meta.url);
    const arg = JSON.stringify({ file: wp.configFile, baseUrl: wp.baseUrl, pid, reloads, addresses, intervalS, pauseMs: num('pause-ms'), deadlineMs: Date.now() + maxMinutes * 60_000,
      heapFile: probe.file, curveEvery: num('curve-every'), snapshotDir: snapshotDir ?? null,
    });
    const argFile = join(lab.tmpDir, 'churn-client.json');
    writeFileSync(argFile, arg);
    // the heap probe's samples around the churn bound its full collections (wireprobe's clock)
    const heapAtStart = readHeapProbe(probe.file);
    const ex = await lab.exec('probe', [process.execPath, self, '--inner', argFile], { timeoutMs: (maxMinutes + 2) * 60_000 });
    const heapAtEnd = readHeapProbe(probe.file);
    const last = ex.stdout.trim().split('\n').at(-1) ?? '';
    if (!last.startsWith('{')) throw new Error(`the reload client failed (exit ${ex.code}): ${ex.stderr.slice(-2000)}`);
    const r = JSON.parse(last) as InnerResult;
    await sleep(2 * intervalS * 1000);
    // what the churn left once it is over: the config thread's idle time and V8's memory reducer
    // (a few seconds of low allocation) have passed
    await sleep(num('after-s') * 1000);
    const afterSt = wp.process.exitCode === undefined ? statusOf(pid) : undefined;
    const afterHeap = readHeapProbe(probe.file);
    const from = heapAtStart?.now ?? Number.NaN;
    const to = heapAtEnd?.now ?? Number.NaN;
    const majors = (afterHeap?.majorGcs ?? []).filter(([at]) => at >= from && at <= to).map(([, ms]) => ms);
    const alive = wp.process.exitCode === undefined;
    const errorLines = wp.logs().split('\n').filter((l) => l.includes('level=error') && !l.includes('reload')).length;
    await tcpdump.stop('SIGINT', 10_000);
    const code = alive ? await wp.stop() : wp.process.exitCode;

    // per unchanged target: its requests during the churn, and the longest gap between two of them
    const pcap = readPcap(new Uint8Array(readFileSync(pcapFile)));
    const want = new Map(addresses.map((a) => [a, [] as number[]]));
    const base = new Map(addresses.map((a) => [a, [] as number[]]));
    for (const p of pcap.packets) {
      const e = echoInFrame(p.data, pcap.linkType);
      if (e === undefined || e.echo.kind !== 'request') continue;
      const ms = Number(p.tsNs / 1000n) / 1000;
      if (ms >= baseStartMs && ms <= baseEndMs) base.get(e.ip.dst)?.push(ms);
      if (ms >= r.churnStartMs && ms <= r.churnEndMs) want.get(e.ip.dst)?.push(ms);
    }
    const during = gapStats(want, r.churnStartMs, r.churnEndMs, intervalS, r.events);
    const control = gapStats(base, baseStartMs, baseEndMs, intervalS, []);
    const rss = growth(r.rssKb);
    // the samples with no worker thread alive: the thread count at its minimum
    const minThreads = Math.min(...r.threads);
    const quiet = r.rssKb.filter((_, i) => r.threads[i] === minThreads);
    const busy = r.rssKb.filter((_, i) => r.threads[i]! > minThreads);
    // the share of samples taken while a worker thread lived, over the first and the last 10 %
    const tenth = Math.max(1, Math.floor(r.threads.length / 10));
    const aliveShare = (ts: readonly number[]): number => Math.round((100 * ts.filter((t) => t > minThreads).length) / Math.max(1, ts.length));
    const heapFirst = r.curve[0]?.heapUsedMb ?? Number.NaN;
    const heapLast = r.curve.at(-1)?.heapUsedMb ?? Number.NaN;
    const churnS = (r.churnEndMs - r.churnStartMs) / 1000;
    const out = {
      reloads: r.reloads,
      requested: reloads,
      churnSeconds: Math.round(churnS * 10) / 10,
      reloadMs: { median: r.reloadMsMedian, max: r.reloadMsMax },
      goodApplied: r.goodOk,
      badRefusedOldKept: r.badRefused,
      wrongAnswers: r.wrongAnswers,
      wrongTargets: r.wrongTargets,
      wire: {
        unchangedTargets: n,
        intervalS,
        churn: { ...during, expected: Math.round(n * (churnS / intervalS)) },
        baselineWithoutReloads: control,
        tcpdumpDrops: Number(/(\d+) packets? dropped by kernel/.exec(tcpdump.stderr)?.[1] ?? Number.NaN),
      },
      rssMb: {
        ...rss,
        ...drift(r.rssKb),
        noWorkerAlive: { samples: quiet.length, threads: minThreads, ...growth(quiet) },
        workerAlive: { samples: busy.length, ...growth(busy) },
        workerAlivePct: { first10pct: aliveShare(r.threads.slice(0, tenth)), last10pct: aliveShare(r.threads.slice(-tenth)) },
        threadsMax: Math.max(...r.threads),
        afterChurn: {
          seconds: num('after-s'), rssMb: Math.round((afterSt?.rssKb ?? Number.NaN) / 102.4) / 10, threads: afterSt?.threads ?? Number.NaN,
          mainHeapUsedMb: mb1(afterHeap?.heapUsed ?? Number.NaN), mainHeapTotalMb: mb1(afterHeap?.heapTotal ?? Number.NaN), mainOldMb: mb1(spaceBytes(afterHeap?.spaces, 'old')),
        },
      },
      mainThreadFullGcsDuringChurn: {
        count: majors.length, totalMs: Math.round(majors.reduce((a, b) => a + b, 0)), maxMs: Math.max(0, ...majors),
        sharePct: Math.round((10_000 * majors.reduce((a, b) => a + b, 0)) / Math.max(1, to - from)) / 100,
      },
      mainThreadHeapUsedMb: { first: heapFirst, last: heapLast, growthPct: Math.round((10_000 * (heapLast - heapFirst)) / heapFirst) / 100 },
      curve: r.curve,
      ...(snapshotDir === undefined ? {} : { heapSnapshots: snapshotDir }),
      crashed: !alive,
      exitCode: code,
      errorLogLines: errorLines,
      nodeOptions,
      load: { start: load0, end: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    const ok = alive && code === 0 && r.reloads === reloads && r.goodOk + r.badRefused === r.reloads && r.wrongTargets.length === 0 &&
      during.gapsOver1_5Intervals === 0 && during.silentTargets === 0 && out.rssMb.growthPct < 5;
    process.stdout.write(`${ok ? 'PASS' : 'FAIL'}\n`);
    return ok ? 0 : 1;
  } finally {
    clearTimeout(bound);
    await lab.destroy();
  }
}

if (values.inner !== undefined) await inner(values.inner);
else process.exitCode = await main();
