/** schema/openapi.yaml must not drift from the config schema's target definition. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { ErrorCodes } from '../../../src/lib/errors.js';
import { SPEC_SCHEMAS } from '../../../src/operations/spec.js';

type Node = Record<string, unknown>;
const root = new URL('../../../../schema/', import.meta.url);
const config = JSON.parse(readFileSync(new URL('config.schema.json', root), 'utf8')) as { $defs: Record<string, Node> };
const openapi = parse(readFileSync(new URL('openapi.yaml', root), 'utf8')) as { components: { schemas: Record<string, Node> } };
const schemas = openapi.components.schemas;

const REFS: Record<string, string> = { name: 'Name', port: 'Port', payloadSize: 'PayloadSize' };
/** The config schema's `$ref`s rewritten to the OpenAPI components. */
function rewrite(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewrite);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === '$ref' ? `#/components/schemas/${REFS[String(v).replace('#/$defs/', '')]}` : rewrite(v)]),
  );
}

void test('TargetEntry, Name, Port and PayloadSize equal the config schema definitions', () => {
  assert.deepEqual(schemas.TargetEntry, rewrite(config.$defs.target));
  for (const [def, component] of Object.entries(REFS)) assert.deepEqual(schemas[component], rewrite(config.$defs[def]));
});

void test('TargetCreate and TargetReplace hold every target key, rule and requirement, plus name and lifetime', () => {
  const target = rewrite(config.$defs.target) as Node & { properties: Node; required: string[] };
  for (const [body, required] of [['TargetCreate', ['name', ...target.required]], ['TargetReplace', target.required]] as const) {
    const s = schemas[body] as Node & { properties: Node };
    const { name, lifetime, ...rest } = s.properties;
    assert.ok(name !== undefined && lifetime !== undefined, body);
    assert.deepEqual(rest, target.properties, body);
    assert.deepEqual(s.required, required, body);
    assert.deepEqual([s.if, s.then, s.additionalProperties], [target.if, target.then, false], body);
  }
});

void test('the error code list names every code the API answers with', () => {
  const documented = ((schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } }).properties.error.properties.code.enum);
  // OPS_ERR_RUNNER, OPS_ERR_CANCELLED and the engine's OPS_ERR_SPEC appear only in operation events, never as an HTTP error
  const events = new Set(['API_ERR_STATE_FILE', 'OPS_ERR_RUNNER', 'OPS_ERR_CANCELLED', 'OPS_ERR_SPEC']);
  // the fleet API answers with these three; the others are connection states and member outcomes
  const fleet = ['FLEET_ERR_REQUEST', 'FLEET_ERR_SELECTOR', 'FLEET_ERR_UNAVAILABLE'];
  const answered = [...Object.values(ErrorCodes).filter((c) => /^(API|OPS|TOOL)_ERR_/.test(c) && !events.has(c)), 'DNS_ERR_RESOLVE', ...fleet];
  assert.deepEqual([...documented].sort(), [...answered].sort());
});

void test('the body schemas compile and judge sample bodies as the API does', () => {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  for (const [name, s] of Object.entries(schemas)) ajv.addSchema(s, `#/components/schemas/${name}`);
  const wrap = { $id: 'doc', components: { schemas } };
  ajv.addSchema(wrap);
  const create = ajv.getSchema('doc#/components/schemas/TargetCreate')!;
  assert.ok(create({ name: 'a', type: 'TCPsyn', destination: '198.18.0.1', dst_port: 80, lifetime: 60 }));
  assert.ok(!create({ name: 'a', type: 'TCPsyn', destination: '198.18.0.1' }), 'dst_port required for TCPsyn');
  assert.ok(!create({ name: 'A', type: 'ICMPping', destination: '198.18.0.1' }));
  assert.ok(!create({ name: 'a', type: 'ICMPping', destination: '198.18.0.1', colour: 'red' }));
});

void test('GET /flows documents every query parameter, group key and order the parser accepts', async () => {
  const { FLOW_GROUP_KEYS, FLOW_ORDER_KEYS, FLOW_QUERY_MAX_LIMIT, FLOW_QUERY_PARAMS } = await import('../../../src/flows/query-params.js');
  type Param = { name: string; schema: { enum?: string[]; maximum?: number } };
  const doc = openapi as unknown as { paths: Record<string, { get: { parameters: Param[] } }> };
  const params = doc.paths['/flows']!.get.parameters;
  assert.deepEqual(params.map((p) => p.name), [...FLOW_QUERY_PARAMS]);
  const byName = (n: string): Param => params.find((p) => p.name === n)!;
  assert.deepEqual(byName('group_by').schema.enum, [...FLOW_GROUP_KEYS]);
  assert.deepEqual(byName('order_by').schema.enum, [...FLOW_ORDER_KEYS]);
  assert.equal(byName('limit').schema.maximum, FLOW_QUERY_MAX_LIMIT);
});

void test('PingRequest, TracerouteRequest and MtrRequest equal the schemas the operations API validates with', () => {
  assert.deepEqual(schemas.PingRequest, SPEC_SCHEMAS.ping);
  assert.deepEqual(schemas.TracerouteRequest, SPEC_SCHEMAS.traceroute);
  assert.deepEqual(schemas.MtrRequest, SPEC_SCHEMAS.mtr);
});
