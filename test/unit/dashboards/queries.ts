// The PromQL of the Grafana dashboards (dashboards/*.json) and of the alert rule files
// (alerts/*.rules.yml), extracted and made runnable: Grafana's variables are replaced by values a
// plain Prometheus understands. Pure functions; the static test (dashboards.test.ts) and the
// integration test against a real Prometheus (test/integration/dashboards-promql.test.ts) share them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface PanelQuery {
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
}

export interface TemplateVariable {
  readonly name: string;
  readonly type: string;
  /** the PromQL-ish query of a `query` variable (e.g. `label_values(m{a="$b"}, label)`), else '' */
  readonly query: string;
  readonly multi: boolean;
  readonly includeAll: boolean;
  readonly allValue: string | null;
}

export interface RuleQuery {
  readonly rule: string;
  readonly expr: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Every panel of a dashboard, panels nested in (collapsed) rows included. */
export function panelsOf(dashboard: Json): Json[] {
  const out: Json[] = [];
  const walk = (list: unknown): void => {
    for (const p of asArray(list)) {
      if (!isObject(p)) continue;
      out.push(p);
      walk(p['panels']);
    }
  };
  walk(dashboard['panels']);
  return out;
}

/** The `expr` of every target of every panel (rows have none). */
export function panelQueries(dashboard: Json): PanelQuery[] {
  return panelsOf(dashboard).flatMap((p) =>
    asArray(p['targets'])
      .filter(isObject)
      .map((t) => ({ panel: str(p['title']), refId: str(t['refId']), expr: str(t['expr']) })),
  );
}

export function templateVariables(dashboard: Json): TemplateVariable[] {
  const templating = dashboard['templating'];
  return asArray(isObject(templating) ? templating['list'] : undefined)
    .filter(isObject)
    .map((v) => {
      const q = v['query'];
      return {
        name: str(v['name']),
        type: str(v['type']),
        query: v['type'] === 'query' ? (isObject(q) ? str(q['query']) : str(q)) : '',
        multi: v['multi'] === true,
        includeAll: v['includeAll'] === true,
        allValue: typeof v['allValue'] === 'string' ? v['allValue'] : null,
      };
    });
}

/** Index of the comma that separates the last top-level argument (outside (), {}, [] and quotes). */
function lastTopLevelComma(s: string): number {
  let depth = 0;
  let quote: string | null = null;
  let last = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote !== null) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    else if (c === ',' && depth === 0) last = i;
  }
  return last;
}

/**
 * The PromQL a Grafana variable query runs, as an instant query that returns one series per value:
 * `label_values(sel, l)` → `count by (l) (sel)`, `label_values(l)` → `count by (l) ({l!=""})`,
 * `query_result(q)` → `q`. Other functions (metrics(), label_names()) are refused: the test could
 * not check them.
 */
export function variableQueryExpr(query: string): { expr: string; label: string | null } {
  const q = query.trim();
  const call = /^(label_values|query_result)\s*\(([\s\S]*)\)$/.exec(q);
  if (call === null) throw new Error(`unsupported variable query (label_values or query_result expected): ${q}`);
  const [, fn, args] = call as unknown as [string, string, string];
  if (fn === 'query_result') return { expr: args.trim(), label: null };
  const comma = lastTopLevelComma(args);
  const label = (comma < 0 ? args : args.slice(comma + 1)).trim();
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label)) throw new Error(`label_values: bad label name "${label}" in ${q}`);
  const selector = comma < 0 ? `{${label}!=""}` : args.slice(0, comma).trim();
  return { expr: `count by (${label}) (${selector})`, label };
}

/**
 * Replaces Grafana variables (`$name`, `${name}`, `[[name]]`) by `values[name]`. A variable without a
 * value, or with a format (`${name:csv}`), throws: the query would not be what Grafana runs.
 */
export function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{([A-Za-z0-9_]+)(:[^}]*)?\}|\[\[([A-Za-z0-9_]+)\]\]|\$([A-Za-z0-9_]+)/g, (m, braced?: string, fmt?: string, bracketed?: string, bare?: string) => {
    const name = braced ?? bracketed ?? bare ?? '';
    if (fmt !== undefined) throw new Error(`variable format ${m} is not supported by the test: ${expr}`);
    const v = values[name];
    if (v === undefined) throw new Error(`no value for variable $${name} in: ${expr}`);
    return v;
  });
}

/** Names of the Grafana variables an expression uses. */
export function variablesUsed(expr: string): string[] {
  const names = [...expr.matchAll(/\$\{([A-Za-z0-9_]+)[^}]*\}|\[\[([A-Za-z0-9_]+)\]\]|\$([A-Za-z0-9_]+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
  return [...new Set(names)];
}

/** `expr` of every alerting and recording rule of a Prometheus rule file. */
export function ruleQueries(yamlText: string): RuleQuery[] {
  const doc: unknown = parse(yamlText);
  const groups = isObject(doc) ? asArray(doc['groups']) : [];
  return groups.filter(isObject).flatMap((g) =>
    asArray(g['rules'])
      .filter(isObject)
      .map((r) => ({ rule: `${str(g['name'])}/${str(r['alert']) || str(r['record'])}`, expr: str(r['expr']) })),
  );
}

/** Files of `dir` whose name ends with `suffix`, sorted, as absolute paths ([] when dir is missing). */
export function filesEndingWith(dir: string, suffix: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith(suffix)).sort().map((n) => join(dir, n));
}

export function readDashboard(file: string): Json {
  const doc: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isObject(doc)) throw new Error(`${file}: not a JSON object`);
  return doc;
}
