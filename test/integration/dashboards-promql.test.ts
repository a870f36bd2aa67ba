// Every PromQL expression of the Grafana dashboards (dashboards/*.json: panel queries and variable
// queries) and of the alert rule files (alerts/*.rules.yml) against a real Prometheus that scrapes a
// running wireprobe in a namespace lab (dashboards-lab.ts). Grafana's variables are replaced as
// Grafana would: multi-value/"All" variables by their all value (.*), a single-value variable by each
// value its own query returns; $__rate_interval, $__interval and $__range by fixed durations.
// Each expression must be accepted by Prometheus (no parse or execution error); each panel query
// and variable query must return at least one series for some value of the single-value variables,
// once Prometheus has scraped enough (retried until a deadline). Rule expressions must evaluate
// without error; whether an alert fires is not required (alerts/ has its own tests).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, type TestContext } from 'node:test';
import { labSuite } from '../lab/harness.js';
import { PROMETHEUS, REPO_ROOT, sleep, startPrometheus, type Lab, type PrometheusHandle } from '../lab/index.js';
import { filesEndingWith, panelQueries, readDashboard, ruleQueries, substitute, templateVariables, variableQueryExpr } from '../unit/dashboards/queries.js';
import { startDashboardsWireprobe } from './dashboards-lab.js';
import { queryBatch, type QueryOutcome } from './promql-batch.js';

const DASHBOARDS = filesEndingWith(join(REPO_ROOT, 'dashboards'), '.json');
const RULE_FILES = filesEndingWith(join(REPO_ROOT, 'alerts'), '.rules.yml');
const BUILTINS: Readonly<Record<string, string>> = {
  __rate_interval: '10s',
  __interval: '2s',
  __interval_ms: '2000',
  __range: '1m',
  __range_s: '60',
  __range_ms: '60000',
};
/** Scrapes before the first evaluation, and how long empty results are retried. */
const WARMUP_MS = 15_000;
const DATA_DEADLINE_MS = 45_000;

/** `<dashboard file>/<panel title>` → why the lab cannot give it data. Keep it short. */
const NO_DATA_ALLOWED: Readonly<Record<string, string>> = {};

type Binding = Readonly<Record<string, string>>;

interface Check {
  /** dashboard file / panel title (or variable name) / refId */
  readonly where: string;
  readonly allowKey: string;
  /** one expression per binding of the single-value variables */
  readonly exprs: readonly string[];
}

/** Runs instant queries; outcomes by expression. */
type Runner = (exprs: readonly string[]) => Promise<Map<string, QueryOutcome>>;

function runner(lab: Lab, prom: PrometheusHandle): Runner {
  return async (exprs) => {
    const out = await queryBatch(lab, prom.url, [...new Set(exprs)]);
    return new Map(out.map((o) => [o.expr, o]));
  };
}

/**
 * Evaluates the dashboard's variables in order: multi/"All" variables take their all value; a
 * single-value variable multiplies the bindings by the label values its query returns.
 */
async function bindingsOf(run: Runner, file: string, checks: Check[]): Promise<Binding[]> {
  let bindings: Binding[] = [BUILTINS];
  for (const v of templateVariables(readDashboard(file)).filter((x) => x.type === 'query')) {
    const { expr, label } = variableQueryExpr(v.query);
    const exprs = bindings.map((b) => substitute(expr, b));
    checks.push({ where: `${basename(file)}/$${v.name}`, allowKey: `${basename(file)}/$${v.name}`, exprs });
    if (v.includeAll || v.multi) {
      bindings = bindings.map((b) => ({ ...b, [v.name]: v.allValue ?? '.*' }));
      continue;
    }
    const outcomes = await run(exprs);
    bindings = bindings.flatMap((b, i) => {
      const values = [...new Set((outcomes.get(exprs[i]!)?.labels ?? []).map((l) => l[label ?? ''] ?? ''))].filter((x) => x !== '').sort();
      return values.map((value) => ({ ...b, [v.name]: value }));
    });
    assert.ok(bindings.length > 0, `${basename(file)}: variable $${v.name} has no value (${exprs.join(' | ')})`);
  }
  return bindings;
}

async function dashboardChecks(run: Runner, file: string): Promise<Check[]> {
  const checks: Check[] = [];
  const bindings = await bindingsOf(run, file, checks);
  const queries = panelQueries(readDashboard(file));
  assert.ok(queries.length > 0, `${basename(file)} has no PromQL expression`);
  for (const q of queries) {
    checks.push({
      where: `${basename(file)}/${q.panel}/${q.refId}`,
      allowKey: `${basename(file)}/${q.panel}`,
      exprs: [...new Set(bindings.map((b) => substitute(q.expr, b)))],
    });
  }
  return checks;
}

/** Errors fail at once; empty results are retried until the deadline. */
async function assertChecks(t: TestContext, run: Runner, checks: readonly Check[]): Promise<void> {
  const deadline = Date.now() + DATA_DEADLINE_MS;
  let pending = [...checks];
  for (;;) {
    const outcomes = await run(pending.flatMap((c) => c.exprs));
    const errors = pending.flatMap((c) => c.exprs.map((e) => outcomes.get(e)!).filter((o) => o.error !== null).map((o) => `${c.where}: ${o.error}\n  ${o.expr}`));
    assert.deepEqual(errors, [], `expressions Prometheus refused:\n${errors.join('\n')}`);
    pending = pending.filter((c) => c.exprs.every((e) => outcomes.get(e)!.series === 0));
    const blocking = pending.filter((c) => NO_DATA_ALLOWED[c.allowKey] === undefined);
    if (blocking.length === 0 || Date.now() > deadline) {
      for (const c of pending.filter((x) => NO_DATA_ALLOWED[x.allowKey] !== undefined)) t.diagnostic(`no data (allowed: ${NO_DATA_ALLOWED[c.allowKey]}): ${c.where}`);
      const report = blocking.map((c) => `${c.where}:\n  ${c.exprs.slice(0, 3).join('\n  ')}${c.exprs.length > 3 ? `\n  … ${c.exprs.length - 3} more bindings` : ''}`);
      assert.deepEqual(report, [], `queries without data after ${DATA_DEADLINE_MS / 1000} s:\n${report.join('\n')}`);
      return;
    }
    await sleep(3000);
  }
}

void describe('dashboards-promql', { timeout: 240_000 }, () => {
  let prom: PrometheusHandle | undefined;
  after(async () => {
    await prom?.stop();
  });
  const suite = labSuite('dashboards-promql', [PROMETHEUS, { bin: 'nft', pkg: 'nftables' }, { bin: 'dnsmasq', pkg: 'dnsmasq' }, { bin: 'conntrack', pkg: 'conntrack' }]);
  const run: Runner = (exprs) => {
    if (prom === undefined) throw new Error('prometheus was not started (see the before hook error)');
    return runner(suite.lab(), prom)(exprs);
  };

  before(async () => {
    const wp = await startDashboardsWireprobe(suite);
    prom = await startPrometheus(suite.lab(), { scrapeTargets: [`127.0.0.1:${wp.port}`], ruleFiles: RULE_FILES });
    await prom.waitForTargetsUp(20_000);
    await sleep(WARMUP_MS);
  });

  for (const file of DASHBOARDS) {
    suite.test(`${basename(file)}: every query parses and returns data`, async (t) => {
      const checks = await dashboardChecks(run, file);
      t.diagnostic(`${checks.length} queries, ${checks.reduce((n, c) => n + c.exprs.length, 0)} evaluations`);
      await assertChecks(t, run, checks);
    });
  }
  suite.test(`alert rules (${RULE_FILES.map((f) => basename(f)).join(', ') || 'none yet'}): every expression evaluates`, async (t) => {
    const rules = RULE_FILES.flatMap((f) => ruleQueries(readFileSync(f, 'utf8')).map((r) => ({ ...r, file: basename(f) })));
    t.diagnostic(`${rules.length} rules in ${RULE_FILES.length} files`);
    const outcomes = await run(rules.map((r) => r.expr));
    const errors = rules.map((r) => ({ r, o: outcomes.get(r.expr)! })).filter(({ o }) => o.error !== null).map(({ r, o }) => `${r.file}/${r.rule}: ${o.error}`);
    assert.deepEqual(errors, []);
    const active = rules.filter((r) => outcomes.get(r.expr)!.series > 0).map((r) => r.rule);
    t.diagnostic(`rules with a result in the lab (would fire after their "for"): ${active.join(', ') || 'none'}`);
    for (const r of rules) assert.ok(r.expr.trim() !== '', `${r.file}/${r.rule}: empty expr`);
  });
});
