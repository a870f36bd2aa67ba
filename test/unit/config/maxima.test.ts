/**
 * Every numeric key of the config schema has a maximum the engine can honour, and the same
 * bound reaches config files (file:line:col errors), API bodies and inventory entries
 * (key-path errors through validateTargetEntry).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { validateTargetEntry } from '../../../src/config/entries.js';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';
import { MAX_ROUND_PACKETS } from '../../../src/config/subnet.js';

type Node = Record<string, unknown>;
const schema = JSON.parse(readFileSync(new URL('../../../../schema/config.schema.json', import.meta.url), 'utf8')) as Node;

/** Every schema node whose type is (or includes) integer or number, with its path. */
function numericNodes(node: unknown, path: string, out: [string, Node][]): [string, Node][] {
  if (typeof node !== 'object' || node === null) return out;
  if (Array.isArray(node)) {
    node.forEach((n, i) => numericNodes(n, `${path}[${i}]`, out));
    return out;
  }
  const n = node as Node;
  const types = Array.isArray(n.type) ? n.type : [n.type];
  if (types.includes('integer') || types.includes('number')) out.push([path, n]);
  for (const [k, v] of Object.entries(n)) numericNodes(v, `${path}/${k}`, out);
  return out;
}

void test('every numeric key of the schema has a maximum (or a closed enum)', () => {
  const nodes = numericNodes(schema, '#', []);
  assert.ok(nodes.length > 40, `found ${nodes.length}`);
  const open = nodes.filter(([, n]) => typeof n.maximum !== 'number' && !Array.isArray(n.enum)).map(([p]) => p);
  assert.deepEqual(open, []);
  for (const [path, n] of nodes) {
    if (typeof n.maximum === 'number') assert.ok(Number.isSafeInteger(Math.ceil(n.maximum)), `${path}: a safe maximum`);
  }
});

const GLOBAL = 'global: {probe_name: x, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}';

function problemsOf(text: string): string {
  try {
    parseConfig(text, 'max.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '';
}

void test('over-maximum values in a config file are refused with file:line:col and key path', () => {
  /** [the target line, the value's text in it, the message]: the position is the value's */
  const cases: [string, string, string][] = [
    ['  t: {type: ICMPping, destination: 198.18.0.1, nb_packets: 100000000000000000000}', '1000', 'targets.t.nb_packets: must be <= 10000 (got 100000000000000000000)'],
    ['  t: {type: ICMPping, destination: 198.18.0.1, nb_packets: 1e308}', '1e308', 'targets.t.nb_packets: must be an integer (got 1e308)'],
    ['  t: {type: ICMPping, destination: 198.18.0.1, timeout: 3601}', '3601', 'targets.t.timeout: must be <= 3600 (got 3601)'],
    ['  t: {type: ICMPping, destination: 198.18.0.1, ip_payload_size: 65001}', '65001', 'targets.t.ip_payload_size: must be <= 65000 (got 65001)'],
    ['  t: {type: ICMPping, destination: 198.18.0.1, threshold: {loss: 2}}', '2}', 'targets.t.threshold.loss: must be <= 1 (got 2)'],
    ['  t: {type: ICMPping, destination: 198.18.0.1, dns_update_interval: 604801}', '604801', 'targets.t.dns_update_interval: must be <= 604800 (got 604801)'],
  ];
  for (const [target, value, message] of cases) {
    const got = problemsOf([GLOBAL, 'groups: {g: {}}', 'targets:', target].join('\n'));
    const want = `max.yaml:4:${target.indexOf(value) + 1}: ${message}`;
    assert.ok(got.includes(want), `${target}\n  got: ${got}\n  want: ${want}`);
  }
  const global = problemsOf(['global: {probe_name: x, interval: 86401, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}', 'groups: {}'].join('\n'));
  assert.match(global, /max\.yaml:1:35: global\.interval: must be <= 86400 \(got 86401\)/);
});

void test('a subnet may send at most MAX_ROUND_PACKETS packets per round (addresses × nb_packets)', () => {
  const target = (dest: string, nb: number): string => [GLOBAL, 'groups: {g: {}}', 'targets:', `  s: {type: ICMPping, destination: "${dest}", is_subnet: true, nb_packets: ${nb}}`].join('\n');
  assert.equal(problemsOf(target('198.18.0.0/16', 1)), '');
  assert.equal(problemsOf(target('198.18.0.0/24', MAX_ROUND_PACKETS / 256)), '');
  assert.match(problemsOf(target('198.18.0.0/24', MAX_ROUND_PACKETS / 256 + 1)), /max\.yaml:4:82: targets\.s\.nb_packets: 256 addresses × 257 packets is more than 65536 packets per round; at most 256 for this destination/);
  assert.match(problemsOf(target('198.18.0.0/16', 2)), /at most 1 for this destination/);
});

void test('the HTTP header timeout may not exceed the request timeout', () => {
  const text = (h: number, r: number): string =>
    [`global: {probe_name: x, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000, http_header_timeout: ${h}, http_request_timeout: ${r}}`, 'groups: {}'].join('\n');
  assert.equal(problemsOf(text(10, 10)), '');
  assert.match(problemsOf(text(11, 10)), /global\.http_header_timeout: \(11\) must be <= http_request_timeout \(10\)/);
  assert.match(problemsOf(text(1, 3601)), /global\.http_request_timeout: must be <= 3600/);
});

void test('API bodies and inventory entries get the same maxima, by key path', () => {
  const { config } = parseConfig([GLOBAL, 'groups: {g: {}}'].join('\n'), 'base.yaml');
  const poison = validateTargetEntry('poison', { type: 'ICMPping', destination: '127.0.0.1', nb_packets: 1e308 }, config);
  assert.ok(!poison.ok);
  assert.deepEqual(poison.problems.map((p) => p.path), ['nb_packets']);
  assert.match(poison.problems[0]!.message, /must be <= 10000/);
  const subnet = validateTargetEntry('s', { type: 'ICMPping', destination: '198.18.0.0/20', is_subnet: true, nb_packets: 17 }, config);
  assert.ok(!subnet.ok);
  assert.deepEqual(subnet.problems.map((p) => p.path), ['nb_packets']);
  const fine = validateTargetEntry('ok', { type: 'TCPsyn', destination: '198.18.0.1', dst_port: 65535, nb_packets: 10000, timeout: 3600, ip_payload_size: 65000 }, config);
  assert.ok(fine.ok);
});
