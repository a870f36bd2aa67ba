// The alert rules in alerts/: `promtool check rules` (Debian package prometheus) accepts every
// rule file, `promtool test rules` passes every unit test file, and the unit tests cover every
// alert both firing and not firing, and every recording rule. Needs no root.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { PROMTOOL, REPO_ROOT, requireTools, runCommand } from '../lab/index.js';

const ALERTS_DIR = join(REPO_ROOT, 'alerts');
const TESTS_DIR = join(ALERTS_DIR, 'tests');

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string }[] }[];
}
interface UnitTestFile {
  rule_files: string[];
  tests: {
    name: string;
    alert_rule_test?: { alertname: string; exp_alerts?: unknown[] | null }[];
    promql_expr_test?: { expr: string }[];
  }[];
}

const ruleFiles = (): string[] => readdirSync(ALERTS_DIR).filter((f) => f.endsWith('.rules.yml')).sort().map((f) => join(ALERTS_DIR, f));
const testFiles = (): string[] => readdirSync(TESTS_DIR).filter((f) => f.endsWith('.test.yml')).sort().map((f) => join(TESTS_DIR, f));

void describe('alerts-promtool', { timeout: 60_000 }, () => {
  before(() => requireTools([PROMTOOL]));

  void test('promtool check rules accepts every rule file', async () => {
    const files = ruleFiles();
    assert.ok(files.length >= 2, `rule files in ${ALERTS_DIR}: ${files.join(', ')}`);
    const r = await runCommand(['promtool', 'check', 'rules', ...files], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, `promtool check rules failed:\n${r.stdout}${r.stderr}`);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /warning|lint/i, 'promtool check rules printed findings');
  });

  void test('promtool test rules passes every unit test file', async () => {
    const files = testFiles();
    assert.ok(files.length > 0, `no *.test.yml in ${TESTS_DIR}`);
    const r = await runCommand(['promtool', 'test', 'rules', ...files], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, `promtool test rules failed:\n${r.stdout}${r.stderr}`);
  });

  void test('the unit tests cover every alert firing and not firing, and every recording rule', () => {
    const alerts = new Set<string>();
    const records = new Set<string>();
    for (const f of ruleFiles()) {
      for (const g of (parse(readFileSync(f, 'utf8')) as RuleFile).groups) {
        for (const r of g.rules) {
          if (r.alert !== undefined) alerts.add(r.alert);
          if (r.record !== undefined) records.add(r.record);
        }
      }
    }
    const firing = new Set<string>();
    const silent = new Set<string>();
    const queried: string[] = [];
    for (const f of testFiles()) {
      for (const t of (parse(readFileSync(f, 'utf8')) as UnitTestFile).tests) {
        for (const a of t.alert_rule_test ?? []) ((a.exp_alerts ?? []).length > 0 ? firing : silent).add(a.alertname);
        for (const e of t.promql_expr_test ?? []) queried.push(e.expr);
      }
    }
    const missing = [
      ...[...alerts].filter((a) => !firing.has(a)).map((a) => `${a}: no case where it fires`),
      ...[...alerts].filter((a) => !silent.has(a)).map((a) => `${a}: no case where it does not fire`),
      ...[...records].filter((r) => !queried.some((q) => q.includes(r))).map((r) => `${r}: no promql_expr_test`),
      ...[...firing, ...silent].filter((a) => !alerts.has(a)).map((a) => `${a}: tested but not defined`),
    ];
    assert.deepEqual(missing, [], `alert unit test coverage:\n${missing.join('\n')}`);
    assert.ok(alerts.size >= 15, `expected the 15 alerts of alerts/README.md, found ${alerts.size}`);
  });
});
