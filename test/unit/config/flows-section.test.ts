/** The `flows:` config section: defaults, paths, the PostgreSQL URL, and errors with file:line:col that never show the URL. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'wpt-flows-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'config.yaml');
const SECRET = 'postgresql://flows:Zx9-secret@127.0.0.1:5432/flows';
writeFileSync(join(dir, 'pg.url'), `  ${SECRET}\n`);
writeFileSync(join(dir, 'empty.url'), '\n');

const BASE = ['global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}', 'groups: {g1: {}}'].join('\n');
const load = (flows: string) => parseConfig(`${BASE}\n${flows}`, file);

function problems(flows: string): string[] {
  try {
    load(flows);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.ok(!e.message.includes('Zx9-secret'));
    return e.problems.map((p) => `${p.line}:${p.path}: ${p.message}`);
  }
  assert.fail('expected a ConfigError');
}

void describe('flows section: valid', () => {
  void it('is absent by default', () => {
    assert.equal(load('').config.flows, undefined);
  });
  void it('gets its defaults: decoding inline, SQLite in state_dir, no PostgreSQL', () => {
    assert.deepEqual(load('flows: {}').config.flows, {
      enabled: true,
      listen: [{ address: '0.0.0.0', port: 2055 }],
      receive_buffer_bytes: 33554432,
      decode: 'inline',
      state_dir: '/var/lib/wireprobe/flows',
      max_exporters: 1024,
      max_templates: 4096,
      early_data: { max_datagrams: 1000, max_age: 1800 },
      top: { window: 60, n: 10, max_series: 1000 },
      sqlite: { path: '/var/lib/wireprobe/flows/flows.sqlite', retention: { max_age: 604800, max_bytes: 10737418240 }, batch_size: 10000, flush_interval: 1 },
      postgres: null,
    });
  });
  void it('resolves paths against the config directory, reads url_file, takes sqlite: null', () => {
    const flows = load(['flows:', '  state_dir: state', '  listen: [{address: "::1", port: 9995}, {address: 127.0.0.1, port: 9995}]', '  sqlite: null',
      '  postgres: {url_file: pg.url, retention: {max_age: 3600}}'].join('\n')).config.flows!;
    assert.equal(flows.state_dir, join(dir, 'state'));
    assert.equal(flows.sqlite, null);
    assert.deepEqual(flows.postgres, { url: SECRET, partition_interval: 86400, retention: { max_age: 3600, max_bytes: 0 }, batch_size: 10000, flush_interval: 1 });
    assert.equal(load('flows: {sqlite: {path: db/f.sqlite}}').config.flows!.sqlite!.path, join(dir, 'db/f.sqlite'));
    assert.equal(load('flows: {decode: pool}').config.flows!.decode, 'pool');
  });
});

void describe('flows section: errors with file:line', () => {
  void it('refuses bad addresses, duplicate sockets, out-of-range numbers and unknown keys', () => {
    assert.deepEqual(problems(['flows:', '  listen:', '    - {address: "2001:DB8::1", port: 2055}', '    - {address: "2001:db8::1", port: 2055}',
      '    - {address: eth0, port: 2055}', '  receive_buffer_bytes: 10', '  tpo: {}'].join('\n')), [
      '6:flows.listen[1]: same address and port as flows.listen[0]',
      '7:flows.listen[2].address: "eth0" is not an IPv4 or IPv6 address',
      '8:flows.receive_buffer_bytes: must be >= 65536 (got 10)',
      '9:flows: unknown key "tpo"',
    ]);
    assert.deepEqual(problems('flows: {decode: gpu}'), ['3:flows.decode: must be one of inline, pool (got "gpu")']);
  });
  void it('needs exactly one of url and url_file, a readable non-empty file, and never shows the URL', () => {
    assert.deepEqual(problems(`flows: {postgres: {url: "${SECRET}", url_file: pg.url}}`), ['3:flows.postgres: set exactly one of url and url_file']);
    assert.deepEqual(problems('flows: {postgres: {}}'), ['3:flows.postgres: set exactly one of url and url_file']);
    assert.match(problems('flows: {postgres: {url_file: missing.url}}')[0]!, /^3:flows.postgres.url_file: cannot read URL file ".*missing.url": no such file or directory \(ENOENT\)$/);
    assert.match(problems('flows: {postgres: {url_file: empty.url}}')[0]!, /is empty/);
  });
});
