import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitHostPort } from '../../../src/config/host-port.js';
import { srvEntries } from '../../../src/inventory/dns-srv-plugin.js';
import { createDocumentValidator, parseJson, parseYaml } from '../../../src/inventory/document.js';
import { mapHttpSd } from '../../../src/inventory/http-sd-map.js';
import { InventoryError } from '../../../src/inventory/types.js';

const reason = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof InventoryError) return e.reason;
    throw e;
  }
  return 'none';
};

void test('host and port forms', () => {
  assert.deepEqual(splitHostPort('web.example:8080'), { host: 'web.example', port: 8080 });
  assert.deepEqual(splitHostPort('198.19.0.1'), { host: '198.19.0.1', port: null });
  assert.deepEqual(splitHostPort('[2001:db8::1]:53'), { host: '2001:db8::1', port: 53 });
  assert.deepEqual(splitHostPort('[2001:db8::1]'), { host: '2001:db8::1', port: null });
  assert.deepEqual(splitHostPort('2001:db8::1'), { host: '2001:db8::1', port: null });
  for (const bad of ['', ':80', 'h:0', 'h:65536', 'h:x', '[zz]:1', '[2001:db8::1]x', 'a:b:c']) assert.equal(splitHostPort(bad), null, bad);
});

void test('Prometheus HTTP SD JSON maps to entries; labels set type and groups', () => {
  const doc = mapHttpSd([
    { targets: ['198.19.0.1:443', 'web.example'], labels: { job: 'x', wireprobe_groups: 'g1, g2' } },
    { targets: ['[2001:db8::1]:53'], labels: { __meta_wireprobe_type: 'UDPunreachable' } },
    { targets: [] },
  ]);
  assert.deepEqual(doc.targets, [
    { hostname: '198.19.0.1:443', destination: '198.19.0.1', dst_port: 443, groups: ['g1', 'g2'] },
    { hostname: 'web.example', destination: 'web.example', groups: ['g1', 'g2'] },
    { hostname: '[2001:db8::1]:53', destination: '2001:db8::1', dst_port: 53, type: 'UDPunreachable' },
  ]);
  for (const bad of [{}, [1], [{ targets: 'x' }], [{ targets: [1] }], [{ targets: [], labels: { a: 1 } }]]) {
    assert.equal(reason(() => mapHttpSd(bad)), 'schema', JSON.stringify(bad));
  }
});

void test('SRV records become sorted entries named by target and port', () => {
  const doc = srvEntries([
    { name: 'b.example', port: 80, priority: 1, weight: 1 },
    { name: 'a.example', port: 443, priority: 1, weight: 1 },
    { name: 'a.example', port: 80, priority: 1, weight: 1 },
  ]);
  assert.deepEqual(doc.targets.map((t) => t.hostname), ['a.example:80', 'a.example:443', 'b.example:80']);
  assert.deepEqual(doc.targets[0], { hostname: 'a.example:80', destination: 'a.example', dst_port: 80 });
});

void test('documents: JSON and YAML parse errors, root schema errors', () => {
  assert.equal(reason(() => parseJson('{"targets": [')), 'parse');
  assert.equal(reason(() => parseYaml('targets: [\n')), 'parse');
  assert.equal(reason(() => parseYaml('targets: []\n---\ntargets: []\n')), 'parse');
  assert.equal(reason(() => parseYaml('a: 1\na: 2\n')), 'parse');
  assert.deepEqual(parseYaml('targets:\n  - hostname: a\n'), { targets: [{ hostname: 'a' }] });
  const v = createDocumentValidator();
  for (const bad of [null, [], { targets: 1 }, { targets: [1] }, { targets: [], extra: 1 }]) {
    assert.equal(reason(() => v.entries(bad)), 'schema', JSON.stringify(bad));
  }
  assert.deepEqual(v.entries({ targets: [{}] }), [{}]);
  assert.deepEqual(v.entryProblems({ hostname: 'a', groups: ['G'] }).length, 1);
});
