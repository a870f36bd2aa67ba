// Static checks of the Grafana dashboards (dashboards/*.json): JSON, a Prometheus datasource
// variable used by every panel and query variable and no datasource fixed by uid, unique uids,
// built-in panel types only, every variable an expression uses declared; and the query extraction
// shared with the integration test (dashboards-promql.test.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { filesEndingWith, panelQueries, panelsOf, readDashboard, ruleQueries, substitute, templateVariables, variableQueryExpr, variablesUsed } from './queries.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const FILES = filesEndingWith(join(REPO, 'dashboards'), '.json');
const DS = { type: 'prometheus', uid: '${datasource}' };
const BUILT_IN_PANELS = new Set(['row', 'timeseries', 'stat', 'heatmap', 'table', 'state-timeline', 'text', 'gauge', 'bargauge']);
const GRAFANA_BUILTINS = new Set(['__rate_interval', '__interval', '__interval_ms', '__range', '__range_s', '__range_ms']);
/** the probing dashboards filter by netprobify's labels */
const PROBING = ['wireprobe-overview.json', 'wireprobe-target.json'];

/** Every `datasource` value anywhere in the document, with its JSON path. */
function datasources(node: unknown, path = '$'): { path: string; value: unknown }[] {
  if (Array.isArray(node)) return node.flatMap((v, i) => datasources(v, `${path}[${i}]`));
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node as Record<string, unknown>).flatMap(([k, v]) => [
    ...(k === 'datasource' ? [{ path: `${path}.${k}`, value: v }] : []),
    ...datasources(v, `${path}.${k}`),
  ]);
}

void describe('dashboards (static)', () => {
  void test('the five dashboards exist', () => {
    assert.deepEqual(
      FILES.map((f) => f.slice(f.lastIndexOf('/') + 1)),
      ['wireprobe-flows.json', 'wireprobe-health.json', 'wireprobe-host-checks.json', 'wireprobe-overview.json', 'wireprobe-target.json'],
    );
  });

  for (const file of FILES) {
    const name = file.slice(file.lastIndexOf('/') + 1);
    void describe(name, () => {
      const d = readDashboard(file);
      const vars = templateVariables(d);

      void test('Grafana 10/11 schema, title, uid', () => {
        assert.ok(typeof d['schemaVersion'] === 'number' && d['schemaVersion'] >= 36, `schemaVersion ${String(d['schemaVersion'])}`);
        assert.match(String(d['uid']), /^[a-z0-9-]{1,40}$/);
        assert.match(String(d['title']), /^wireprobe \/ /);
        assert.equal(d['id'], null, 'no instance-specific id');
        assert.equal(d['__inputs'], undefined, 'no import-time datasource inputs: the datasource is a variable');
      });

      void test('a Prometheus datasource variable, used by every datasource reference', () => {
        const ds = vars.filter((v) => v.type === 'datasource');
        assert.deepEqual(ds.map((v) => v.name), ['datasource']);
        const refs = datasources(d);
        assert.ok(refs.length > 0);
        for (const r of refs) assert.deepEqual(r.value, DS, `${r.path}: hard-coded or missing datasource`);
      });

      void test('every panel but rows has the datasource and queries; panel types are built in; ids unique', () => {
        const panels = panelsOf(d);
        const ids = panels.map((p) => p['id']);
        assert.equal(new Set(ids).size, ids.length, 'panel ids unique');
        for (const p of panels) {
          assert.ok(BUILT_IN_PANELS.has(String(p['type'])), `panel type ${String(p['type'])}`);
          if (p['type'] === 'row') continue;
          assert.deepEqual(p['datasource'], DS, `panel "${String(p['title'])}"`);
          const targets = p['targets'];
          assert.ok(Array.isArray(targets) && targets.length > 0, `panel "${String(p['title'])}" has queries`);
          assert.ok(typeof p['description'] === 'string' && p['description'].length > 0, `panel "${String(p['title'])}" has a description`);
        }
      });

      void test('every expression is non-empty and uses only declared variables', () => {
        const declared = new Set(vars.map((v) => v.name));
        const queries = panelQueries(d);
        assert.ok(queries.length > 0, 'a dashboard without expressions');
        for (const q of [...queries.map((x) => x.expr), ...vars.map((v) => v.query)]) {
          for (const v of variablesUsed(q)) assert.ok(declared.has(v) || GRAFANA_BUILTINS.has(v), `$${v} is not declared: ${q}`);
        }
        for (const q of queries) assert.ok(q.expr.trim().length > 0, `${q.panel}/${q.refId}: empty expr`);
      });

      void test('query variables run on the datasource variable and are label_values queries', () => {
        for (const v of vars.filter((x) => x.type === 'query')) {
          assert.ok(variableQueryExpr(v.query).label !== null, `${v.name}: ${v.query}`);
          if (v.includeAll) assert.equal(v.allValue, '.*', `${v.name}: "All" must match every value (used with =~)`);
        }
        if (PROBING.includes(name)) {
          for (const want of ['probe_name', 'destination', 'group']) assert.ok(vars.some((v) => v.name === want), `variable ${want}`);
        }
      });
    });
  }

  void test('dashboard uids are unique', () => {
    const uids = FILES.map((f) => readDashboard(f)['uid']);
    assert.equal(new Set(uids).size, uids.length, uids.join(', '));
  });
});

void describe('query extraction', () => {
  void test('label_values and query_result become instant queries', () => {
    assert.deepEqual(variableQueryExpr('label_values(app_reload_conf_failed_status, probe_name)'), {
      expr: 'count by (probe_name) (app_reload_conf_failed_status)',
      label: 'probe_name',
    });
    assert.deepEqual(variableQueryExpr('label_values({__name__=~"(a|b)_total", x=~"$x", y="1,2"}, group)'), {
      expr: 'count by (group) ({__name__=~"(a|b)_total", x=~"$x", y="1,2"})',
      label: 'group',
    });
    assert.deepEqual(variableQueryExpr(' label_values(job) '), { expr: 'count by (job) ({job!=""})', label: 'job' });
    assert.deepEqual(variableQueryExpr('query_result(topk(3, up))'), { expr: 'topk(3, up)', label: null });
    assert.throws(() => variableQueryExpr('metrics(wireprobe_.*)'), /unsupported variable query/);
    assert.throws(() => variableQueryExpr('label_values(up, "job")'), /bad label name/);
  });

  void test('substitute replaces every variable syntax and refuses unknown ones and formats', () => {
    const values = { probe_name: '.*', __rate_interval: '10s', destination: 'web' };
    assert.equal(substitute('rate(x{p=~"$probe_name", d="${destination}", e="[[destination]]"}[$__rate_interval])', values), 'rate(x{p=~".*", d="web", e="web"}[10s])');
    assert.throws(() => substitute('x{g=~"$group"}', values), /no value for variable \$group/);
    assert.throws(() => substitute('x{g=~"${destination:regex}"}', values), /variable format/);
    assert.deepEqual(variablesUsed('a{b="$x", c="${y}", d="[[z]]"}[$__range] $x'), ['x', 'y', 'z', '__range']);
  });

  void test('rule files: expr of alerting and recording rules', () => {
    const text = 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n      - record: r:x\n        expr: sum(x)\n';
    assert.deepEqual(ruleQueries(text), [
      { rule: 'g/A', expr: 'up == 0' },
      { rule: 'g/r:x', expr: 'sum(x)' },
    ]);
    assert.deepEqual(ruleQueries('groups: []\n'), []);
  });
});
