// `#/$defs/check_dhcp` of schema/config.schema.json, with the loader's ajv settings: defaults, and
// what it rejects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

const schema = JSON.parse(readFileSync(new URL('../../../../schema/config.schema.json', import.meta.url), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
ajv.addSchema(schema);
const validate = ajv.getSchema(`${schema.$id}#/$defs/check_dhcp`);

function check(entry: Record<string, unknown>): { ok: boolean; data: Record<string, unknown> } {
  assert.ok(validate !== undefined);
  const data = structuredClone(entry);
  const ok = validate(data);
  assert.equal(typeof ok, 'boolean', 'the schema is synchronous');
  return { ok: ok === true, data };
}

void test('a dhcp check needs a name and an interface; the rest has defaults', () => {
  const { ok, data } = check({ name: 'lan', interface: 'eth0' });
  assert.equal(ok, true);
  assert.deepEqual(data, {
    name: 'lan', interface: 'eth0', enabled: true, interval: 30, timeout: 10, on_failure: [],
    window: 3, allowed_servers: [], allowed_macs: [], min_servers: 1, max_servers_reported: 16,
  });
  assert.equal(check({ name: 'lan' }).ok, false);
});

void test('allowed servers are IPv4 addresses, allowed MACs colon-separated hex', () => {
  const good = { name: 'lan', interface: 'eth0', allowed_servers: ['192.0.2.1', '0.0.0.0'], allowed_macs: ['AA:bb:cc:00:11:22'] };
  assert.equal(check(good).ok, true);
  for (const bad of [['192.0.2'], ['192.0.2.256'], ['01.2.3.4'], ['2001:db8::1'], ['192.0.2.1', '192.0.2.1']]) {
    assert.equal(check({ ...good, allowed_servers: bad }).ok, false, JSON.stringify(bad));
  }
  for (const bad of [['aa:bb:cc:00:11'], ['aa-bb-cc-00-11-22'], ['aabbcc001122']]) {
    assert.equal(check({ ...good, allowed_macs: bad }).ok, false, JSON.stringify(bad));
  }
});

void test('interface names, window, bounds', () => {
  const base = { name: 'lan', interface: 'eth0' };
  for (const iface of ['', 'a/b', 'eth0:1', 'x'.repeat(16), 'has space']) assert.equal(check({ ...base, interface: iface }).ok, false, iface);
  assert.equal(check({ ...base, interface: 'enp0s31f6.100' }).ok, true);
  assert.equal(check({ ...base, window: 0 }).ok, false);
  assert.equal(check({ ...base, min_servers: -1 }).ok, false);
  assert.equal(check({ ...base, min_servers: 0 }).ok, true);
  assert.equal(check({ ...base, max_servers_reported: 0 }).ok, false);
  assert.equal(check({ ...base, max_servers_reported: 1025 }).ok, false);
  assert.equal(check({ ...base, vendor: 'x' }).ok, false);
});
