import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertEntries, targetName } from '../../../src/inventory/convert.js';
import { createDocumentValidator } from '../../../src/inventory/document.js';
import { BASE_CONFIG, loadConfig } from './fake-sources.js';

const config = loadConfig(BASE_CONFIG);
const validator = createDocumentValidator();
const convert = (entries: unknown[], defaults: Record<string, unknown> = {}) => convertEntries('inv', defaults, entries, config, validator);

void test('names are <inventory>_<hostname>, lowercased and sanitised to the name pattern', () => {
  assert.equal(targetName('inv', 'Web-1.Example.com'), 'inv_web-1.example.com');
  assert.equal(targetName('inv', '[2001:db8::1]:443'), 'inv__2001_db8__1__443');
  assert.equal(targetName('inv', 'a b/c'), 'inv_a_b_c');
});

void test('netprobify semantics: groups are explicit, no auto-registration, destination defaults to hostname', () => {
  const { targets, rejected } = convert([{ hostname: '198.19.0.1', groups: ['g2'] }]);
  assert.deepEqual(rejected, []);
  const t = targets[0]!.target;
  assert.equal(t.name, 'inv_198.19.0.1');
  assert.equal(t.destination, '198.19.0.1');
  assert.equal(t.type, 'ICMPping');
  assert.equal(t.auto_register_to_groups, false);
  assert.deepEqual(t.explicit_groups.register_to, ['g2']);
  assert.equal(targets[0]!.lifetimeMs, 0);
});

void test('type is TCPsyn when dst_port is given; defaults merge under the entry, the entry wins', () => {
  const defaults = { groups: ['g1'], nb_packets: 3, dst_port: 80 };
  const { targets, rejected } = convert(
    [
      { hostname: 'a.example', destination: '198.19.0.2' },
      { hostname: 'b.example', destination: '198.19.0.3', dst_port: 443, nb_packets: 1, groups: ['g2'], lifetime: 1.5 },
      { hostname: 'c.example', destination: '198.19.0.4', type: 'UDPunreachable', auto_register_to_groups: true },
    ],
    defaults,
  );
  assert.deepEqual(rejected, []);
  const [a, b, c] = targets;
  assert.deepEqual([a!.target.type, a!.target.dst_port, a!.target.nb_packets, a!.target.explicit_groups.register_to], ['TCPsyn', 80, 3, ['g1']]);
  assert.deepEqual([b!.target.dst_port, b!.target.nb_packets, b!.target.explicit_groups.register_to, b!.lifetimeMs], [443, 1, ['g2'], 1500]);
  assert.deepEqual([c!.target.type, c!.target.auto_register_to_groups], ['UDPunreachable', true]);
});

void test('bad entries are rejected with their reasons, good ones kept', () => {
  const { targets, rejected } = convert([
    { hostname: 'ok', destination: '198.19.0.1', groups: ['g1'] },
    { destination: '198.19.0.9' },
    42,
    { hostname: 'badport', destination: '198.19.0.5', type: 'TCPsyn', groups: ['g1'] },
    { hostname: 'badkey', destination: '198.19.0.6', groups: ['g1'], colour: 'red' },
    { hostname: 'nogroup', destination: '198.19.0.7' },
    { hostname: 'ghost', destination: '198.19.0.8', groups: ['nope'] },
    { hostname: 'OK', destination: '198.19.0.10', groups: ['g1'] },
    { hostname: 'life', lifetime: -1, groups: ['g1'] },
    { hostname: 'bad..name', groups: ['g1'] },
  ]);
  assert.deepEqual(targets.map((t) => t.target.name), ['inv_ok']);
  const reasons = Object.fromEntries(rejected.map((r) => [r.entry, r.reason]));
  assert.match(reasons['#1']!, /hostname/);
  assert.match(reasons['#2']!, /must be object/);
  assert.match(reasons['badport']!, /dst_port/);
  assert.match(reasons['badkey']!, /unknown key "colour"/);
  assert.match(reasons['nogroup']!, /belongs to no group/);
  assert.match(reasons['ghost']!, /"nope": no such group/);
  assert.match(reasons['OK']!, /already taken by entry "ok"/);
  assert.match(reasons['life']!, /lifetime/);
  assert.match(reasons['bad..name']!, /destination/);
});

void test('hostile entries are rejected without touching prototypes', () => {
  const hostile = JSON.parse('{"hostname": "p", "groups": ["g1"], "__proto__": {"polluted": 1}, "constructor": {"x": 1}}') as unknown;
  const { targets, rejected } = convert([hostile, { hostname: 'x'.repeat(300), groups: ['g1'] }, { hostname: '' }]);
  assert.equal(targets.length, 0);
  assert.equal(rejected.length, 3);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});
