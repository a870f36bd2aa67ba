/** The `fleet:` config section: defaults, credentials read from files, and errors with file:line:col that never show a secret. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'wpt-fleet-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'config.yaml');
const SEED = `SU${'A'.repeat(56)}`;
writeFileSync(join(dir, 'nats.token'), ' s3cret-token\n');
writeFileSync(join(dir, 'user.nk'), `${SEED}\n`);
writeFileSync(join(dir, 'bad.nk'), 'not-a-seed\n');
writeFileSync(join(dir, 'ca.pem'), 'x');

const BASE = ['global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}', 'groups: {g1: {}}'].join('\n');
const load = (extra: string) => parseConfig(`${BASE}\n${extra}`, file);
const errors = (extra: string): string => {
  try {
    load(extra);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  assert.fail('expected a config error');
};

void describe('fleet section', () => {
  void it('gets its defaults', () => {
    assert.deepEqual(load('fleet: {servers: ["nats://198.18.0.1:4222"]}').config.fleet, {
      enabled: true,
      servers: ['nats://198.18.0.1:4222'],
      labels: {},
      heartbeat_interval: 5,
      gone_after: 15,
      connect_timeout: 5,
      metrics_url: null,
      credentials: { kind: 'none' },
      tls: null,
      allow: { operations: [], destinations: [] },
      dispatch: { default_deadline: 30, max_deadline: 300, max_members: 1000 },
    });
  });
  void it('reads a token file or an NKEY seed file, resolves TLS paths', () => {
    assert.deepEqual(load('fleet: {servers: ["nats://h:4222"], token_file: nats.token}').config.fleet?.credentials, { kind: 'token', token: 's3cret-token' });
    assert.deepEqual(load('fleet: {servers: ["nats://h:4222"], nkey_seed_file: user.nk, tls: {ca_file: ca.pem}}').config.fleet, {
      ...load('fleet: {servers: ["nats://h:4222"]}').config.fleet,
      credentials: { kind: 'nkey', seed: SEED },
      tls: { ca_file: join(dir, 'ca.pem'), cert_file: null, key_file: null },
    });
  });
  void it('reports what the schema cannot express, at its line, without secrets', () => {
    const text = errors([
      'fleet:',
      '  servers: ["nats://h:4222"]',
      '  token: hunter2-secret',
      '  nkey_seed_file: bad.nk',
      '  heartbeat_interval: 10',
      '  gone_after: 10',
      '  labels: {name: x, site: par}',
      '  tls: {ca_file: missing.pem, cert_file: ca.pem}',
      '  allow: {destinations: [198.18.0.1/15, nope]}',
      '  dispatch: {default_deadline: 100, max_deadline: 50}',
    ].join('\n'));
    assert.doesNotMatch(text, /hunter2/);
    for (const expected of [
      /:6:3: fleet\.nkey_seed_file: set at most one of token, token_file and nkey_seed_file/,
      /:8:15: fleet\.gone_after: must be more than heartbeat_interval \(10\); got 10/,
      /:9:12: fleet\.labels\.name: the label `name` is the probe_name/,
      /fleet\.tls: set both cert_file and key_file, or neither/,
      /fleet\.tls\.ca_file: cannot read/,
      /fleet\.allow\.destinations\[0\]: must be a network prefix/,
      /fleet\.allow\.destinations\[1\]: must be a network prefix/,
      /fleet\.dispatch\.default_deadline: must not exceed max_deadline \(50\)/,
    ]) assert.match(text, expected);
  });
  void it('refuses a bad seed file, numbers above their maximum and bad servers', () => {
    assert.match(errors('fleet: {servers: ["nats://h:4222"], nkey_seed_file: bad.nk}'), /does not hold an NKEY user seed/);
    assert.match(errors('fleet: {servers: ["nats://h:4222"], heartbeat_interval: 301}'), /fleet\.heartbeat_interval/);
    assert.match(errors('fleet: {servers: ["http://h"]}'), /fleet\.servers\[0\]/);
    assert.match(errors('fleet: {servers: []}'), /fleet\.servers/);
  });
  void it('a fleet inventory needs an enabled fleet', () => {
    assert.match(errors('inventories: [{name: shared, plugin: fleet}]'), /inventories\[0\]\.plugin: the fleet plugin needs an enabled fleet: section/);
    assert.match(errors('fleet: {enabled: false, servers: ["nats://h:4222"]}\ninventories: [{name: shared, plugin: fleet}]'), /needs an enabled fleet/);
    const ok = load('fleet: {servers: ["nats://h:4222"]}\ninventories: [{name: shared, plugin: fleet, options: {bucket: shared-v1}}]').config;
    assert.deepEqual(ok.inventories[0]?.options, { bucket: 'shared-v1' });
  });
});
