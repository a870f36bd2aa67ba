import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';

// Compiled to dist/test/unit/config/: the repository root is four levels up.
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/config/', import.meta.url));

function text(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}

function errorLines(name: string): string[] {
  try {
    parseConfig(text(name), name);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  throw new Error(`${name} loaded without error`);
}

const COMMON = { enabled: true, interval: 30, timeout: 10, on_failure: [] };

void describe('parseConfig: checks section', () => {
  void it('fills the defaults of every check kind and writes addresses in canonical form', () => {
    const { config, warnings } = parseConfig(text('valid-checks.yaml'), 'valid-checks.yaml');
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.targets, {});
    assert.deepEqual(config.checks.conntrack, []);
    assert.deepEqual(config.checks.dhcp, []);
    assert.deepEqual(config.checks.routes, [
      {
        ...COMMON,
        name: 'main4',
        family: 'ipv4',
        table: 'main',
        count_min: 1,
        prefixes: [
          { prefix: '198.18.1.0/24', present: true, allow_null: false, next_hops_any: ['198.18.0.1'] },
          { prefix: '198.18.9.9/32', present: false, allow_null: true },
        ],
        routable: ['198.19.0.1'],
      },
      {
        ...COMMON,
        name: 't100',
        family: 'ipv6',
        table: 100,
        interval: 5,
        timeout: 2,
        prefixes: [
          { prefix: '2001:db8:0:1::/64', present: true, allow_null: false, next_hops_exact: ['2001:db8::1', '2001:db8::2'] },
          { prefix: '2001:db8::5/128', present: true, allow_null: false },
        ],
        routable: [],
        on_failure: [{ exec: ['logger', '{check} {name} failed: {reason}'], timeout: 10 }],
      },
    ]);
    assert.deepEqual(config.checks.processes, [
      { ...COMMON, name: 'sshd', process_name: 'sshd', user: 'root', count_min: 1 },
      { ...COMMON, name: 'sleepers', cmdline_regex: '^sleep [0-9]+ marker$', user: 0, count_min: 2, count_max: 3, enabled: false },
    ]);
    assert.ok(Object.isFrozen(config.checks.routes[0]), 'frozen');
  });

  void it('gives every kind an empty list when the section is absent (netprobify configs)', () => {
    const { config } = parseConfig(text('valid-minimal.yaml'), 'valid-minimal.yaml');
    assert.deepEqual(config.checks, { routes: [], conntrack: [], dhcp: [], processes: [] });
  });

  void it('rejects a name used twice within a kind, at the second one (names may repeat across kinds)', () => {
    assert.deepEqual(errorLines('invalid-check-duplicate-name.yaml'), [
      'invalid-check-duplicate-name.yaml:9:13: checks.processes[2].name: duplicate name "sshd" (also checks.processes[0].name)',
    ]);
  });

  void it('rejects a regular expression that does not compile', () => {
    assert.deepEqual(errorLines('invalid-check-regex.yaml'), [
      'invalid-check-regex.yaml:6:22: checks.processes[0].cmdline_regex: invalid regular expression: /sleep ([/: Unterminated character class',
    ]);
  });

  void it('rejects count_max below count_min, naming the default', () => {
    assert.deepEqual(errorLines('invalid-check-count-order.yaml'), [
      'invalid-check-count-order.yaml:7:18: checks.processes[0].count_max: count_max (0) must be >= count_min (1, the default)',
    ]);
  });

  void it('rejects prefixes and addresses of the wrong family or form', () => {
    assert.deepEqual(errorLines('invalid-check-prefix.yaml'), [
      'invalid-check-prefix.yaml:8:19: checks.routes[0].prefixes[0].prefix: must not have host bits set (got "198.18.1.1/24", the network is 198.18.1.0/24)',
      'invalid-check-prefix.yaml:9:19: checks.routes[0].prefixes[1].prefix: must be an IPv4 network in CIDR notation or an IPv4 address (got "2001:db8::/32")',
      'invalid-check-prefix.yaml:10:39: checks.routes[0].prefixes[1].next_hops_any[1]: must be an IPv4 address (got "fe80::1")',
      'invalid-check-prefix.yaml:11:18: checks.routes[0].routable[0]: must be an IPv4 address (got "198.18.0.300")',
      'invalid-check-prefix.yaml:12:14: checks.routes[0].table: must be an integer or a string (got true)',
    ]);
  });

  void it('requires a process name or a command-line pattern; a name longer than comm allows is an error', () => {
    assert.deepEqual(errorLines('invalid-check-process-no-match.yaml'), [
      'invalid-check-process-no-match.yaml:5:7: checks.processes[0]: needs process_name or cmdline_regex (or both)',
      'invalid-check-process-no-match.yaml:8:21: checks.processes[1].process_name: must be at most 15 characters long (got "a-name-too-long-for-comm")',
    ]);
  });
});
