// End to end: a real Prometheus (Debian package prometheus) scrapes wireprobe in the lab's probe
// namespace and evaluates the repository's alert rules; 50 % loss is injected (nft in the target
// namespace) and WireprobeLossAboveThreshold must become firing in /api/v1/alerts within the time
// the rule's window and `for:` give, for every target with a threshold and an alerting
// alert_level, and for no other; after the loss stops it must resolve within the expected time.
//
// Time scale: the rules are loaded as a copy of alerts/*.rules.yml with every `for:` and range
// duration divided by 30 (scaleRuleDurations: `[5m]` -> `[10s]`, `for: 2m` -> `for: 4s`), and
// wireprobe probes every second, the scrape and evaluation intervals are 1 s: a 30 s probing /
// scrape setup at 1/30 of the time. No alert other than the loss alert may appear at all: in
// particular WireprobeIterationTooSlow (iteration longer than the 1 s interval for 30 s scaled)
// must not, since rounds are planned to settle, timeouts reaped late included, within 90 % of it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, type TestContext } from 'node:test';
import { labSuite } from '../lab/harness.js';
import {
  netprobifyConfig,
  PROMETHEUS,
  REPO_ROOT,
  scaleRuleDurations,
  sleep,
  startPrometheus,
  waitFor,
  type Lab,
  type PromAlert,
  type PromSeries,
  type PrometheusHandle,
  type TargetSpec,
} from '../lab/index.js';

const SCALE = 1 / 30;
const RULE_FILES = ['wireprobe-probing.rules.yml', 'wireprobe-host.rules.yml'];
const ALERT = 'WireprobeLossAboveThreshold';

// The loss rule at this scale: rate window W, `for:` F (asserted against the scaled file below).
const WINDOW_S = 300 * SCALE;
const FOR_S = 120 * SCALE;
const THRESHOLD = 0.1;
const LOSS = 0.5;
const INTERVAL_S = 1;
const TIMEOUT_S = 0.3;
const SCRAPE_S = 1;
const EVAL_S = 1;
/** Extra time allowed over the computed bounds: a shared 2-core machine, and ~0.5 s polling. */
const SLACK_S = 10;

// After the loss starts, the 5-minute (scaled) loss ratio crosses the threshold once THRESHOLD/LOSS
// of the window is lossy; the losses are counted when the probes time out, then scraped, then
// evaluated; the alert is pending for F and fires at the next evaluation.
const FIRE_EXPECTED_S = (THRESHOLD / LOSS) * WINDOW_S + INTERVAL_S + TIMEOUT_S + SCRAPE_S + EVAL_S + FOR_S + EVAL_S;
// After the loss stops, the ratio drops below the threshold once less than THRESHOLD/LOSS of the
// window is lossy (the loss lasted at least a window), plus the probes in flight, scrape, evaluation.
const RESOLVE_MIN_S = (1 - THRESHOLD / LOSS) * WINDOW_S;
const RESOLVE_EXPECTED_S = RESOLVE_MIN_S + INTERVAL_S + TIMEOUT_S + SCRAPE_S + EVAL_S;

const common = { nb_packets: 10, timeout: TIMEOUT_S, threshold: { loss: THRESHOLD } };
const TARGETS: Record<string, TargetSpec> = {
  'icmp-a': { type: 'ICMPping', destination: '198.19.1.1', alert_level: 'paging', ...common },
  'icmp-b': { type: 'ICMPping', destination: '198.19.2.2', alert_level: 'paging', ...common },
  'icmp-v6': { type: 'ICMPping', destination: '2001:db8:1::5', alert_level: 'paging', ...common },
  tcp: { type: 'TCPsyn', destination: '198.19.4.4', dst_port: 80, alert_level: 'paging_validation', ...common },
  // thresholds but alert_level no_alert: lossy too, never alerts
  quiet: { type: 'ICMPping', destination: '198.19.3.3', alert_level: 'no_alert', ...common },
};
const EXPECTED: Record<string, { probe_type: string; address_family: string; alert_level: string; severity: string }> = {
  'icmp-a': { probe_type: 'icmp', address_family: 'ipv4', alert_level: 'paging', severity: 'critical' },
  'icmp-b': { probe_type: 'icmp', address_family: 'ipv4', alert_level: 'paging', severity: 'critical' },
  'icmp-v6': { probe_type: 'icmp', address_family: 'ipv6', alert_level: 'paging', severity: 'critical' },
  tcp: { probe_type: 'tcpsyn', address_family: 'ipv4', alert_level: 'paging_validation', severity: 'warning' },
};

/** Writes the time-scaled copies of the rule files into `dir`; returns their paths. */
function scaledRuleFiles(dir: string, t: TestContext): string[] {
  return RULE_FILES.map((name) => {
    const scaled = scaleRuleDurations(readFileSync(join(REPO_ROOT, 'alerts', name), 'utf8'), SCALE);
    const file = join(dir, `scaled-${name}`);
    writeFileSync(file, scaled.text);
    t.diagnostic(`${name} scaled by 1/30: ${scaled.changes.join(', ')}`);
    return file;
  });
}

/** Polls /api/v1/alerts, recording every alert seen, until `done` holds (bounded). */
async function watchAlerts(
  prom: PrometheusHandle,
  seen: Set<string>,
  opts: { timeoutMs: number; what: string; done: (alerts: PromAlert[]) => boolean },
): Promise<PromAlert[]> {
  let last: PromAlert[] = [];
  return waitFor(
    async () => {
      last = await prom.alerts();
      for (const a of last) seen.add(`${a.labels['alertname']}{${a.labels['destination'] ?? ''}}`);
      return opts.done(last) ? last : undefined;
    },
    {
      timeoutMs: opts.timeoutMs,
      intervalMs: 500,
      what: opts.what,
      describe: () => `alerts: ${JSON.stringify(last.map((a) => ({ ...a.labels, state: a.state, value: a.value })))}`,
    },
  );
}

const lossAlerts = (alerts: PromAlert[]): PromAlert[] => alerts.filter((a) => a.labels['alertname'] === ALERT);

/** Waits until Prometheus has a sent rate over a full window for every target; then no alert may be active. */
async function baseline(prom: PrometheusHandle): Promise<void> {
  await prom.waitForTargetsUp(15_000);
  await waitFor(
    async () => {
      const r = await prom.query(`(rate(icmp_sent_total[${WINDOW_S}s]) > 0) or (rate(tcpsyn_sent_total[${WINDOW_S}s]) > 0)`);
      return Array.isArray(r.result) && r.result.length === Object.keys(TARGETS).length;
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'a sent rate for every target in Prometheus' },
  );
  await sleep(WINDOW_S * 1000);
  assert.deepEqual(await prom.alerts(), [], 'no alert without loss');
}

/** Injects the loss and waits for the alert to fire for every EXPECTED target; checks timing and labels. */
async function lossUntilFiring(lab: Lab, prom: PrometheusHandle, seen: Set<string>, t: TestContext): Promise<number> {
  const lossStart = Date.now();
  await lab.setLoss(LOSS * 100);
  /** destination -> ms from the loss start to firing seen, and to the alert's activeAt (pending) */
  const fired = new Map<string, { firing: number; active: number }>();
  const alerts = await watchAlerts(prom, seen, {
    timeoutMs: (FIRE_EXPECTED_S + SLACK_S) * 1000,
    what: `${ALERT} firing for ${Object.keys(EXPECTED).join(', ')}`,
    done: (all) => {
      for (const a of lossAlerts(all)) {
        const d = a.labels['destination'] ?? '';
        if (a.state === 'firing' && !fired.has(d)) fired.set(d, { firing: Date.now() - lossStart, active: Date.parse(a.activeAt) - lossStart });
      }
      return Object.keys(EXPECTED).every((d) => fired.has(d));
    },
  });
  t.diagnostic(
    `firing after ${[...fired].map(([d, f]) => `${d} ${(f.firing / 1000).toFixed(1)} s (pending from ${(f.active / 1000).toFixed(1)} s)`).join(', ')}; ` +
      `computed at most ${FIRE_EXPECTED_S.toFixed(1)} s (bound with slack ${FIRE_EXPECTED_S + SLACK_S} s)`,
  );
  for (const [d, f] of fired) {
    assert.ok(f.active > 0, `${d}: pending ${f.active} ms after the loss started, i.e. before it`);
    assert.ok(f.firing - f.active >= FOR_S * 1000 - 100, `${d}: firing ${f.firing - f.active} ms after pending, sooner than for: ${FOR_S} s`);
  }
  const got = lossAlerts(alerts).filter((a) => a.state === 'firing');
  assert.deepEqual(got.map((a) => a.labels['destination']).sort(), Object.keys(EXPECTED).sort(), 'firing for exactly the alerting targets (not quiet)');
  for (const a of got) {
    const { probe_type, address_family, alert_level, severity, group, probe_name } = a.labels;
    assert.deepEqual({ probe_type, address_family, alert_level, severity, group, probe_name }, { ...EXPECTED[a.labels['destination'] ?? ''], group: 'g1', probe_name: 'itest' });
    assert.ok(Number(a.value) > THRESHOLD && Number(a.value) < 0.8, `${a.labels['destination']}: loss ratio ${a.value}`);
    assert.match(a.annotations['description'] ?? '', /above the loss threshold of 10%/);
  }
  return lossStart;
}

/** Keeps the loss for at least a window, stops it, and waits for every loss alert to go; checks the timing. */
async function stopUntilResolved(lab: Lab, prom: PrometheusHandle, seen: Set<string>, lossStart: number, t: TestContext): Promise<void> {
  await sleep(Math.max(0, lossStart + WINDOW_S * 1000 - Date.now()));
  await lab.setLoss(0);
  const stopped = Date.now();
  const resolvedAt = new Map<string, number>();
  await watchAlerts(prom, seen, {
    timeoutMs: (RESOLVE_EXPECTED_S + SLACK_S) * 1000,
    what: `${ALERT} resolved for every target`,
    done: (all) => {
      const active = new Set(lossAlerts(all).map((a) => a.labels['destination'] ?? ''));
      for (const d of Object.keys(EXPECTED)) if (!active.has(d) && !resolvedAt.has(d)) resolvedAt.set(d, Date.now() - stopped);
      return active.size === 0;
    },
  });
  t.diagnostic(
    `resolved after ${[...resolvedAt].map(([d, ms]) => `${d} ${(ms / 1000).toFixed(1)} s`).join(', ')}; ` +
      `computed ${RESOLVE_MIN_S} to ${RESOLVE_EXPECTED_S.toFixed(1)} s (bound with slack ${RESOLVE_EXPECTED_S + SLACK_S} s)`,
  );
  // 2 s of tolerance below the ideal: rate() extrapolates to the window's edges
  const first = Math.min(...resolvedAt.values());
  assert.ok(first >= (RESOLVE_MIN_S - 2) * 1000, `resolved ${first} ms after the loss stopped: is the window shorter than ${WINDOW_S} s?`);
}

void describe('alerts-e2e', { timeout: 150_000 }, () => {
  const suite = labSuite('alerts-e2e', [PROMETHEUS]);

  suite.test('50 % loss fires WireprobeLossAboveThreshold in the expected time and it resolves after', async (t) => {
    const lab = suite.lab();
    const wp = await suite.start(netprobifyConfig({ global: { interval: INTERVAL_S }, targets: TARGETS }));
    const ruleFiles = scaledRuleFiles(lab.tmpDir, t);
    const scaledProbing = readFileSync(ruleFiles[0] ?? '', 'utf8');
    assert.match(scaledProbing, /rate\(icmp_loss_total\[10s\]\)[\s\S]*?for: 4s/, 'the loss rule has the window and for: this test computes with');

    const prom = await startPrometheus(lab, { scrapeTargets: [`127.0.0.1:${wp.port}`], ruleFiles, scrapeIntervalS: SCRAPE_S, evaluationIntervalS: EVAL_S });
    const seen = new Set<string>();
    try {
      await baseline(prom);
      const lossStart = await lossUntilFiring(lab, prom, seen, t);
      await stopUntilResolved(lab, prom, seen, lossStart, t);
      // the iterations themselves, over the whole run: each settles within the interval
      const its = await prom.query(`max(max_over_time(app_iteration_time_seconds[${Math.ceil((Date.now() - lossStart) / 1000) + 60}s]))`);
      const first = its.resultType === 'vector' ? (its.result as PromSeries[])[0] : undefined;
      const longest = Number(first?.value?.[1]);
      t.diagnostic(`longest iteration ${longest.toFixed(3)} s (interval ${INTERVAL_S} s)`);
      assert.ok(longest > 0 && longest < INTERVAL_S, `longest iteration ${longest} s, interval ${INTERVAL_S} s`);
      const other = [...seen].filter((k) => !k.startsWith(`${ALERT}{`) || k === `${ALERT}{quiet}`);
      assert.deepEqual(other, [], 'no other alert, and none for the no_alert target');
    } finally {
      const code = await prom.stop();
      if (code !== 0) t.diagnostic(`prometheus exited ${code}; log tail:\n${prom.logs().slice(-2000)}`);
    }
  });
});
