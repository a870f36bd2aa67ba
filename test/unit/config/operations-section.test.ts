/** The `operations:` config section: defaults, canonical prefixes, and file:line:col errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';

const BASE = ['global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}', 'groups: {g1: {}}'].join('\n');
const load = (section: string) => parseConfig(`${BASE}\n${section}`, '/etc/wireprobe/config.yaml');

function errors(section: string): string[] {
  try {
    load(section);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message.split('\n').map((l) => l.trim().replace('/etc/wireprobe/', ''));
  }
  assert.fail('accepted');
}

void describe('operations section', () => {
  void it('is absent by default, and an empty one allows no destination', () => {
    assert.equal(load('').config.operations, undefined);
    assert.deepEqual(load('operations: {}').config.operations, {
      enabled: true, max_concurrent: 4, max_packets: 1000, max_duration: 300, rate: { per_minute: 10, burst: 5 },
      allow: [], deny: [], keep_for: 600, keep_count: 100,
    });
  });

  void it('keeps prefixes canonical with their family', () => {
    const ops = load('operations:\n  allow: [198.18.0.0/15, "2001:DB8::/32", 0.0.0.0/0]\n  deny: ["::ffff:0:0/96"]').config.operations!;
    assert.deepEqual(ops.allow, [
      { cidr: '198.18.0.0/15', family: 'ipv4' }, { cidr: '2001:db8::/32', family: 'ipv6' }, { cidr: '0.0.0.0/0', family: 'ipv4' },
    ]);
    assert.deepEqual(ops.deny, [{ cidr: '::ffff:0.0.0.0/96', family: 'ipv6' }]);
  });

  void it('reports bad prefixes, host bits, duplicates and bounds at their line and column', () => {
    assert.deepEqual(errors('operations:\n  allow: [198.18.0.0/15, 198.18.0.1/15, 198.18.0.0/15, nope]\n  max_packets: 100001'), [
      'config.yaml:4:26: operations.allow[1]: has host bits set; the network is 198.18.0.0/15',
      'config.yaml:4:41: operations.allow[2]: same prefix as operations.allow[0]',
      'config.yaml:4:56: operations.allow[3]: must be an IPv4 or IPv6 prefix in CIDR notation (e.g. 198.18.0.0/15, 2001:db8::/32)',
      'config.yaml:5:16: operations.max_packets: must be <= 100000 (got 100001)',
    ]);
    assert.deepEqual(errors('operations:\n  rate: {per_minute: 0}'), ['config.yaml:4:22: operations.rate.per_minute: must be >= 1 (got 0)']);
    assert.deepEqual(errors('operations:\n  deny: [10.0.0.0/33]'), [
      'config.yaml:4:10: operations.deny[0]: must be an IPv4 or IPv6 prefix in CIDR notation (e.g. 198.18.0.0/15, 2001:db8::/32)',
    ]);
  });

  void it('accepts the operate token scope', () => {
    const api = load('api:\n  tokens:\n    - {token: operate-0123456789abcdef, scope: operate}').config.api!;
    assert.equal(api.tokens[0]!.scope, 'operate');
  });
});
