/** The probe registry: one line per type; the schemas' type enums, the codecs and the metric names follow it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { frameCodecs, probeKindOf, probeKinds, probeTypeNames, sourcePortRanges } from '../../../src/probes/index.js';

type Node = Record<string, unknown>;
const root = new URL('../../../../schema/', import.meta.url);
const config = JSON.parse(readFileSync(new URL('config.schema.json', root), 'utf8')) as { $defs: { target: Node } };
const openapi = parse(readFileSync(new URL('openapi.yaml', root), 'utf8')) as {
  paths: Record<string, { get?: { parameters?: { name: string; schema: { enum?: string[] } }[] } }>;
};
const sorted = (a: readonly string[]): string[] => [...a].sort();

void test('the config schema names exactly the registry types, and requires dst_port for the types using ports', () => {
  const target = config.$defs.target as { properties: { type: { enum: string[] } }; if: { properties: { type: { enum: string[] } } }; then: { required: string[] } };
  assert.deepEqual(sorted(target.properties.type.enum), sorted(probeTypeNames()));
  assert.deepEqual(sorted(target.if.properties.type.enum), sorted(probeKinds.filter((k) => k.usesPorts).map((k) => k.type)));
  assert.ok(target.then.required.includes('dst_port'));
});

void test('the OpenAPI type filter of GET /targets names exactly the registry types', () => {
  const param = openapi.paths['/targets']?.get?.parameters?.find((p) => p.name === 'type');
  assert.ok(param?.schema.enum);
  assert.deepEqual(sorted(param.schema.enum), sorted(probeTypeNames()));
});

void test('types, metric prefixes and diagnostic reasons are unique; each type decodes its own protocols', () => {
  const unique = (xs: string[]): void => assert.equal(new Set(xs).size, xs.length, xs.join());
  unique(probeTypeNames());
  unique(probeKinds.map((k) => k.metrics.prefix));
  unique(probeKinds.flatMap((k) => k.metrics.unmatched.map((u) => u.what)));
  const codecs = frameCodecs();
  probeKinds.forEach((k, n) => {
    assert.equal(codecs.typeOf(4, k.frames.protocol4), n);
    assert.equal(codecs.typeOf(6, k.frames.protocol6), n);
    assert.deepEqual(probeKindOf(k.type), { kind: k, number: n });
  });
  assert.equal(probeKindOf('HTTPget'), null);
  assert.throws(() => frameCodecs([...probeKinds, probeKinds[0]!]), /two probe types decode IP protocol/);
});

void test('sourcePortRanges: the ranges of the groups of each port-using type, none for the others', () => {
  const { config: c } = parseConfig(`
global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}
groups:
  a: {src_port_a: 40000, src_port_z: 40009}
  b: {src_port_a: 50000, src_port_z: 50001, permit_target_auto_register: false}
targets:
  syn: {type: TCPsyn, destination: 198.18.0.1, dst_port: 80}
  udp: {type: UDPunreachable, destination: 198.18.0.2, dst_port: 33434, auto_register_to_groups: false, explicit_groups: {register_to: [b]}}
  ping: {type: ICMPping, destination: 198.18.0.3}
`, 'ports.yaml');
  assert.deepEqual(sourcePortRanges(c), { TCPsyn: [[40000, 40009]], UDPunreachable: [[50000, 50001]] });
});
