import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { renderConfigReference, type JsonSchema } from '../../scripts/docs/config-reference.js';
import { generatedDocs, REPO_ROOT } from '../../scripts/docs/generate.js';
import { metricSections, NETPROBIFY_FAMILIES } from '../../scripts/docs/metrics-reference.js';

async function schema(): Promise<JsonSchema> {
  return JSON.parse(await readFile(new URL('schema/config.schema.json', REPO_ROOT), 'utf8')) as JsonSchema;
}

/** Every key of every object in the schema, with where it was seen. */
function schemaKeys(node: unknown, at: string, out: Map<string, string>): Map<string, string> {
  if (typeof node !== 'object' || node === null) return out;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === 'properties' && typeof v === 'object' && v !== null && !at.endsWith('/if')) {
      for (const key of Object.keys(v)) out.set(key, at);
    }
    schemaKeys(v, `${at}/${k}`, out);
  }
  return out;
}

void describe('generated references', () => {
  void it('docs/metrics.md and docs/config.md are up to date', async () => {
    for (const doc of await generatedDocs()) {
      let committed = '';
      try {
        committed = await readFile(new URL(doc.path, REPO_ROOT), 'utf8');
      } catch {
        assert.fail(`${doc.path} is missing: run make docs`);
      }
      assert.ok(committed === doc.text, `${doc.path} is stale (the schema or the metric declarations changed): run make docs`);
    }
  });

  void it('lists every metric family once, netprobify ones as such', () => {
    const families = metricSections().flatMap((s) => s.families);
    const names = families.map((f) => f.name);
    assert.equal(new Set(names).size, names.length, 'a family is listed twice');
    assert.ok(names.length > 100, `only ${names.length} families`);
    for (const n of NETPROBIFY_FAMILIES) assert.ok(names.includes(n), `netprobify family ${n} is not declared`);
    for (const f of families) {
      assert.equal(f.netprobify, NETPROBIFY_FAMILIES.has(f.name), f.name);
      assert.notEqual(f.help, '', `${f.name} has no help`);
    }
    const byName = new Map(families.map((f) => [f.name, f]));
    assert.deepEqual(byName.get('icmp_round_trip_seconds')?.labels, ['probe_name', 'destination', 'address_family', 'state', 'group', 'percentile']);
    assert.equal(byName.get('tcpsyn_rtt_seconds')?.type, 'histogram');
    assert.deepEqual(byName.get('wireprobe_route_present')?.labels, ['name', 'prefix']);
    assert.deepEqual(byName.get('wireprobe_api_requests_total')?.labels, ['method', 'route', 'code']);
  });

  void it('documents every key of the config schema, with defaults and conditions', async () => {
    const s = await schema();
    const text = renderConfigReference(s);
    for (const [key, at] of schemaKeys(s, '', new Map())) {
      assert.ok(text.includes(`| \`${key}\` |`), `key ${key} (${at}) has no row`);
    }
    assert.match(text, /^\| `dst_port` \| integer \| when `type` is `"TCPsyn"` or `"UDPunreachable"` \|/m);
    assert.match(text, /^\| `percentile` \| list of integer \| {2}\| `\[95,50\]` \| each: ≥ 1; ≤ 100 \|/m);
    assert.match(text, /^## `inventories\[\]\.options \(plugin: exec\)`$/m);
    assert.match(text, /^\| `on_failure` \| list of object, see \[`checks\.routes\[\]\.on_failure\[\]`\]\(#checksrouteson_failure\) \|/m);
  });

  void it('renders refs, maps, lists and bounds of a small schema', () => {
    const text = renderConfigReference({
      description: 'Root.',
      required: ['a'],
      properties: {
        a: { description: 'Map. More.', type: 'object', additionalProperties: { $ref: '#/$defs/item' } },
        b: { type: 'array', items: { $ref: '#/$defs/item' } },
      },
      $defs: {
        item: {
          description: 'An item.',
          type: 'object',
          additionalProperties: false,
          required: ['n'],
          properties: { n: { type: 'integer', minimum: 1, maximum: 9, default: 2, description: 'N.' }, m: { enum: ['x', 'y'] } },
        },
      },
    });
    assert.match(text, /^\| `a` \| map of name → object, see \[`a\.<name>`\]\(#aname\) \| yes \| Map\. \|$/m);
    assert.match(text, /^\| `b` \| list of object, see \[`a\.<name>`\]\(#aname\) \| {2}\| {2}\|$/m);
    assert.match(text, /^\| `n` \| integer \| yes \| `2` \| ≥ 1; ≤ 9 \| N\. \|$/m);
    assert.match(text, /^\| `m` \| string \| {2}\| {2}\| one of `"x"`, `"y"` \| {2}\|$/m);
    assert.equal(text.match(/^## /gm)?.length, 1, 'a $def reached twice gets one section');
  });
});
