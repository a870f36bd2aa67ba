import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ErrorCode } from '../../../src/lib/errors.js';

// Compiled to dist/test/unit/config/: the repository root is four levels up.
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/config/', import.meta.url));

function parseFixture(name: string): ConfigError {
  try {
    parseConfig(readFileSync(FIXTURES + name, 'utf8'), name);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`${name} loaded without error`);
}

/** invalid-<reason>.yaml → code and exact message (one problem each). */
const CASES: readonly [reason: string, code: ErrorCode, message: string][] = [
  ['address-family', 'CFG_ERR_INVALID', 'invalid-address-family.yaml:10:21: targets.web1.address_family: must be one of ipv4, ipv6 (got "ipv5")'],
  ['bool-for-int', 'CFG_ERR_INVALID', 'invalid-bool-for-int.yaml:9:17: targets.web1.nb_packets: must be an integer (got true)'],
  ['destination', 'CFG_ERR_INVALID', 'invalid-destination.yaml:8:18: targets.web1.destination: must be an IP address or a hostname (got "web_1..example.com")'],
  ['dscp-64', 'CFG_ERR_INVALID', 'invalid-dscp-64.yaml:4:20: groups.standard.dscp: must be <= 63 (got 64)'],
  ['duplicate-key', 'CFG_ERR_YAML', 'invalid-duplicate-key.yaml:10:5: invalid YAML: Map keys must be unique'],
  ['empty', 'CFG_ERR_INVALID', 'invalid-empty.yaml:1:1: the document must be a mapping (got null)'],
  ['enum', 'CFG_ERR_INVALID', 'invalid-enum.yaml:7:11: targets.web1.type: must be one of TCPsyn, ICMPping, UDPunreachable (got "TCPSyn")'],
  ['family-mismatch', 'CFG_ERR_INVALID', 'invalid-family-mismatch.yaml:10:21: targets.web1.address_family: ipv6 does not match the destination "192.0.2.80" (an IPv4 address)'],
  ['float-for-int', 'CFG_ERR_INVALID', 'invalid-float-for-int.yaml:10:17: targets.web1.nb_packets: must be an integer (got 1.5)'],
  ['float-syntax-int', 'CFG_ERR_INVALID', 'invalid-float-syntax-int.yaml:9:15: targets.web1.dst_port: must be an integer (got 443.0)'],
  ['group-name-uppercase', 'CFG_ERR_INVALID', 'invalid-group-name-uppercase.yaml:5:3: groups: invalid name "group2-ERROR": must contain only lowercase letters, digits, "_", "-" and "."'],
  ['missing-global-key', 'CFG_ERR_INVALID', 'invalid-missing-global-key.yaml:3:3: global: missing required key "probe_name"'],
  ['missing-global', 'CFG_ERR_INVALID', 'invalid-missing-global.yaml:2:1: missing required key "global"'],
  ['nb-packets-zero', 'CFG_ERR_INVALID', 'invalid-nb-packets-zero.yaml:10:17: targets.web1.nb_packets: must be >= 1 (got 0)'],
  ['nb-proc-zero', 'CFG_ERR_INVALID', 'invalid-nb-proc-zero.yaml:2:50: global.nb_proc: must be >= 1 (got 0)'],
  ['percentile-zero', 'CFG_ERR_INVALID', 'invalid-percentile-zero.yaml:2:114: global.percentile[1]: must be >= 1 (got 0)'],
  ['per-host-limit', 'CFG_ERR_INVALID', 'invalid-per-host-limit.yaml:11:23: targets.net-b.per_host_metrics: per-host series for 512 addresses so far exceed global.per_host_series_limit (300)'],
  ['per-host-single', 'CFG_ERR_INVALID', 'invalid-per-host-single.yaml:9:23: targets.web1.per_host_metrics: applies to is_subnet targets only (this target is one address)'],
  ['port-order', 'CFG_ERR_INVALID', 'invalid-port-order.yaml:6:17: groups.standard.src_port_z: src_port_z (65000) must be >= src_port_a (65100)'],
  ['port-range', 'CFG_ERR_INVALID', 'invalid-port-range.yaml:9:15: targets.web1.dst_port: must be <= 65535 (got 65536)'],
  ['src-ipv4', 'CFG_ERR_INVALID', 'invalid-src-ipv4.yaml:5:15: groups.standard.src_ipv4: must be an IPv4 address (got "192.0.2.300")'],
  ['src-subnet-host-bits', 'CFG_ERR_INVALID', 'invalid-src-subnet-host-bits.yaml:5:22: groups.standard.src_subnet_ipv4: must not have host bits set (got "192.0.2.9/29", the network is 192.0.2.8/29)'],
  ['src-subnet-single', 'CFG_ERR_INVALID', 'invalid-src-subnet-single.yaml:5:22: groups.standard.src_subnet_ipv4: must contain at least 2 addresses (got a /32); use src_ipv4 for a single address'],
  ['subnet-destination', 'CFG_ERR_INVALID', 'invalid-subnet-destination.yaml:8:18: targets.web1.destination: must be a CIDR network (e.g. 192.168.0.0/24) or an IPv4 range (e.g. 192.168.0.1-5, 10.0.*.1) when is_subnet is true (got "web.example.com")'],
  ['subnet-too-large', 'CFG_ERR_INVALID', 'invalid-subnet-too-large.yaml:8:18: targets.web1.destination: expands to 131072 addresses, more than 65536 (got "10.0.0.0/15")'],
  ['tcpsyn-no-port', 'CFG_ERR_INVALID', 'invalid-tcpsyn-no-port.yaml:7:5: targets.web1: missing required key "dst_port" (required when type is TCPsyn)'],
  ['threshold-key', 'CFG_ERR_INVALID', 'invalid-threshold-key.yaml:10:31: targets.web1.threshold: unknown key "jitter"'],
  ['type-bool', 'CFG_ERR_INVALID', 'invalid-type-bool.yaml:10:20: targets.web1.dont_fragment: must be true or false (got "true")'],
  ['type-float', 'CFG_ERR_INVALID', 'invalid-type-float.yaml:10:14: targets.web1.timeout: must be a number (got "fast")'],
  ['type-int', 'CFG_ERR_INVALID', 'invalid-type-int.yaml:2:50: global.nb_proc: must be an integer (got "8")'],
  ['type-string', 'CFG_ERR_INVALID', 'invalid-type-string.yaml:10:18: targets.web1.description: must be a string (got a list)'],
  ['unknown-key', 'CFG_ERR_INVALID', 'invalid-unknown-key.yaml:10:5: targets.web1: unknown key "nb_packet" (did you mean "nb_packets"?)'],
  ['yaml-syntax', 'CFG_ERR_YAML', 'invalid-yaml-syntax.yaml:11:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
];

const MULTIPLE = [
  'invalid-multiple.yaml:3:15: global.probe_name: must contain only lowercase letters, digits, "_", "-" and "." (got "Lab")',
  'invalid-multiple.yaml:4:13: global.interval: must be >= 1 (got 0)',
  'invalid-multiple.yaml:6:18: global.logging_level: must be one of CRITICAL, ERROR, WARNING, INFO, DEBUG, NOTSET (got "info")',
  'invalid-multiple.yaml:9:45: groups.standard.src_port_z: src_port_z (65000) must be >= src_port_a (65100)',
  'invalid-multiple.yaml:10:33: groups["dc.paris"].src_subnet_ipv6: must not have host bits set (got "2001:db8::1/64", the network is 2001:db8::/64)',
  'invalid-multiple.yaml:13:5: targets.web1: missing required key "dst_port" (required when type is UDPunreachable)',
  'invalid-multiple.yaml:15:21: targets.web1.address_family: ipv6 does not match the destination "192.0.2.80" (an IPv4 address)',
  'invalid-multiple.yaml:19:14: targets["db.paris"].timeout: must be > 0 (got 0)',
  'invalid-multiple.yaml:20:5: targets["db.paris"]: unknown key "nb_packet" (did you mean "nb_packets"?)',
];

const BASE = `global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}
groups:
  g: {}
targets:
  t: {type: ICMPping, destination: web.example.com}
`;

/** Edits of BASE (search → replacement) → exact message. */
const INLINE: readonly [search: string, replacement: string, message: string][] = [
  ['g: {}', 'g: {src_port_a: 65100}', 'x.yaml:3:19: groups.g.src_port_a: src_port_z (65001, the default) must be >= src_port_a (65100)'],
  ['g: {}', 'g: {src_port_z: 100}', 'x.yaml:3:19: groups.g.src_port_z: src_port_z (100) must be >= src_port_a (65000, the default)'],
  ['g: {}', 'g: {src_ip: 10.0.0}', 'x.yaml:3:15: groups.g.src_ip: must be an IPv4 address (got "10.0.0")'],
  ['g: {}', 'g: {src_subnet_ipv6: 10.0.0.0/8}', 'x.yaml:3:24: groups.g.src_subnet_ipv6: must be an IPv6 network in CIDR notation, e.g. 2001:db8::/125 (got "10.0.0.0/8")'],
  ['g: {}', '"a b": {}', 'x.yaml:3:3: groups: invalid name "a b": must contain only lowercase letters, digits, "_", "-" and "."'],
  ['g: {}', 'g: {dscp: 1, dscpp: 2}', 'x.yaml:3:16: groups.g: unknown key "dscpp" (did you mean "dscp"?)'],
  ['8000}', '8000, prometheus_address: "*"}', 'x.yaml:1:117: global.prometheus_address: must be an IP address or a hostname (got "*")'],
  ['8000}', '8000, percentile: 95}', 'x.yaml:1:109: global.percentile: must be a list (got 95)'],
  ['8000}', '8000, verbose: 2}', 'x.yaml:1:106: global.verbose: must be one of 0, 1 (got 2)'],
  ['web.example.com}', '10.0.0.1-5}', 'x.yaml:5:36: targets.t.destination: is an address range; set is_subnet: true to probe every address in it (got "10.0.0.1-5")'],
  ['web.example.com}', '"fe80::1/120", is_subnet: true, address_family: ipv4}', 'x.yaml:5:84: targets.t.address_family: ipv4 does not match the destination "fe80::1/120" (an IPv6 network)'],
  ['web.example.com}', '10.0.0.0/16, is_subnet: true, nb_packets: 2e0}', 'x.yaml:5:78: targets.t.nb_packets: must be an integer (got 2e0)'],
  ['web.example.com}', 'x, state: null}', 'x.yaml:5:46: targets.t.state: must be a string (got null)'],
  ['targets:', 'target:', 'x.yaml:4:1: unknown key "target" (did you mean "targets"?)'],
  ['groups:\n  g: {}\n', 'groups:\n', 'x.yaml:2:8: groups: must be a mapping (got null)'],
  ['global', '---\nx: 1\n---\nglobal', 'x.yaml:3:1: invalid YAML: the file must hold a single document'],
];

void describe('parseConfig: invalid inline documents', () => {
  for (const [search, replacement, message] of INLINE) {
    void it(message.slice(message.indexOf(' ') + 1), () => {
      const text = BASE.replace(search, replacement);
      assert.notEqual(text, BASE);
      assert.throws(() => parseConfig(text, 'x.yaml'), { message });
    });
  }
});

void describe('parseConfig: invalid files', () => {
  for (const [reason, code, message] of CASES) {
    void it(`invalid-${reason}.yaml: ${code}`, () => {
      const error = parseFixture(`invalid-${reason}.yaml`);
      assert.equal(error.code, code);
      assert.equal(error.message, message);
      assert.equal(error.problems.length, 1);
    });
  }

  void it('reports every problem of a file, sorted by position', () => {
    const error = parseFixture('invalid-multiple.yaml');
    assert.equal(error.code, 'CFG_ERR_INVALID');
    assert.equal(error.message, MULTIPLE.join('\n'));
    assert.equal(error.file, 'invalid-multiple.yaml');
    assert.deepEqual(error.problems[0], {
      line: 3,
      col: 15,
      path: 'global.probe_name',
      message: 'must contain only lowercase letters, digits, "_", "-" and "." (got "Lab")',
    });
    assert.ok(Object.isFrozen(error.problems));
  });

  void it('finds repeated keys in every mapping, with the line of each repetition, and lets merge keys repeat', () => {
    const text = `${BASE}  u:
    type: ICMPping
    destination: web.example.com
    nb_packets: 1
    destination: 198.18.0.1
groups:
  h: {}
  h: {}
`;
    assert.throws(() => parseConfig(text, 'dup.yaml'), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.code, 'CFG_ERR_YAML');
      assert.equal(e.message, ['dup.yaml:10:5: invalid YAML: Map keys must be unique', 'dup.yaml:11:1: invalid YAML: Map keys must be unique', 'dup.yaml:13:3: invalid YAML: Map keys must be unique'].join('\n'));
      return true;
    });
    const merged = `${BASE.replace('  g: {}', '  g: &g {dscp: 1}\n  k:\n    <<: *g\n    <<: *g\n    src_port_a: 65100\n    src_port_z: 65199')}`;
    assert.doesNotThrow(() => parseConfig(merged, 'merge.yaml'));
  });

  void it('has a table entry for every invalid fixture', () => {
    // invalid-check-*.yaml are covered by load-checks.test.ts
    const fixtures = readdirSync(FIXTURES).filter((f) => f.startsWith('invalid-') && !f.startsWith('invalid-check-'));
    const covered = [...CASES.map(([reason]) => `invalid-${reason}.yaml`), 'invalid-multiple.yaml'];
    assert.deepEqual(fixtures.sort(), covered.sort());
  });
});
