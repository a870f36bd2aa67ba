// The dashboards conform to Grafana's published dashboard schema (the raw `Dashboard` type of
// @grafana/schema, see grafana-schema.ts), and the check catches wrong types, values outside a
// value set, unknown keys and missing required keys.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dashboardDiagnostics, enumsAsUnions } from './grafana-schema.js';
import { filesEndingWith } from './queries.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const FILES = filesEndingWith(join(REPO, 'dashboards'), '.json');
const BASE = 'wireprobe-overview.json';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v));
  return v as Json;
};
const firstPanel = (d: Json, type: string): Json => {
  const p = (d.panels as unknown[]).map(obj).find((x) => x.type === type);
  assert.ok(p !== undefined, `${BASE} has a ${type} panel`);
  return p;
};

/** Mutations of a conforming dashboard, each with the diagnostic it must produce. */
const MUTATIONS: { name: string; mutate: (d: Json) => void; expect: RegExp }[] = [
  {
    name: 'a string where the schema has a number (gridPos.h)',
    mutate: (d) => (obj(firstPanel(d, 'timeseries').gridPos).h = '8'),
    expect: /Type 'string' is not assignable to type 'number'/,
  },
  {
    name: 'a value outside a value set (thresholds mode)',
    mutate: (d) => (obj(obj(obj(firstPanel(d, 'stat').fieldConfig).defaults).thresholds).mode = 'absolut'),
    expect: /'"absolut"' is not assignable to type 'ThresholdsMode'/,
  },
  {
    name: 'an unknown top-level key',
    mutate: (d) => (d.titel = 'typo'),
    expect: /'"titel"' does not exist in type 'Dashboard'/,
  },
  {
    name: 'a missing required key (schemaVersion)',
    mutate: (d) => delete d.schemaVersion,
    expect: /Property '"?schemaVersion"?' is missing/,
  },
  {
    name: 'a panel without its type',
    mutate: (d) => delete firstPanel(d, 'stat').type,
    expect: /Property '"?type"?' is missing/,
  },
];

void describe('dashboards against the @grafana/schema Dashboard type', () => {
  const docs = new Map(FILES.map((f) => [basename(f), readFileSync(f, 'utf8')]));
  for (const m of MUTATIONS) {
    const d = obj(JSON.parse(docs.get(BASE)!));
    m.mutate(d);
    docs.set(m.name, JSON.stringify(d, null, 2));
  }
  // one in-memory program for all documents (about 2 s)
  const diagnostics = dashboardDiagnostics(docs);

  for (const f of FILES) {
    void test(`${basename(f)} conforms`, () => {
      assert.deepEqual(diagnostics.get(basename(f)), []);
    });
  }

  for (const m of MUTATIONS) {
    void test(`fails on ${m.name}`, () => {
      const found = diagnostics.get(m.name) ?? [];
      assert.ok(found.some((d) => m.expect.test(d)), found.join('\n'));
    });
  }

  void test('a diagnostic carries the line of the JSON text', () => {
    const json = '{\n  "schemaVersion": 39,\n  "title": 7\n}';
    assert.deepEqual(dashboardDiagnostics(new Map([['x', json]])).get('x'), ["3: Type 'number' is not assignable to type 'string'."]);
  });

  void test('enums become unions of their values, members become types', () => {
    const out = enumsAsUnions("export declare enum M {\n  A = 'a',\n  never = 0\n}\nexport interface V { t: M.A }");
    assert.equal(out, "export type M = 'a' | 0;\nexport declare namespace M {\n  type A = 'a';\n}\nexport interface V { t: M.A }");
  });
});
