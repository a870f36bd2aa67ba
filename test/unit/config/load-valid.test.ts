import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, parseConfig } from '../../../src/config/load.js';
import { groupsOfTarget } from '../../../src/config/membership.js';
import type { Config, GroupConfig, TargetConfig } from '../../../src/config/types.js';
import { isAppError } from '../../../src/lib/errors.js';

// Compiled to dist/test/unit/config/: the repository root is four levels up.
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/config/', import.meta.url));

function load(name: string): { config: Config; warnings: string[] } {
  return parseConfig(readFileSync(FIXTURES + name, 'utf8'), name);
}

const NO_SOURCE = { src_ipv4: null, src_ipv6: null, src_subnet_ipv4: null, src_subnet_ipv6: null };

function group(name: string, fields: Partial<GroupConfig>): GroupConfig {
  const defaults = { ...NO_SOURCE, src_port_a: 65000, src_port_z: 65001, ip_payload_size: null, dscp: 0 };
  return { name, ...defaults, permit_target_auto_register: true, ...fields };
}

function target(name: string, fields: Partial<TargetConfig>): TargetConfig {
  return {
    name,
    description: name,
    type: 'ICMPping',
    destination: '',
    address_family: 'ipv4',
    dont_fragment: true,
    is_subnet: false,
    per_host_metrics: false,
    dst_port: null,
    nb_packets: 1,
    ip_payload_size: null,
    threshold: {},
    alert_level: 'no_alert',
    state: null,
    timeout: 1,
    dns_update_interval: 0,
    auto_register_to_groups: true,
    explicit_groups: { register_to: [], exclude_from: [] },
    ...fields,
  };
}

void describe('parseConfig: valid files', () => {
  void it('loads every key of the netprobify contract with its exact value', () => {
    const { config, warnings } = load('valid-full.yaml');
    const expected: Config = {
      file: 'valid-full.yaml',
      global: {
        probe_name: 'probe-1.lab',
        interval: 30,
        interval_packets: 0.01,
        nb_proc: 4,
        verbose: 1,
        logging_level: 'DEBUG',
        prometheus_port: 9100,
        prometheus_address: '127.0.0.1',
        dns_update_interval: 300,
        reload_conf_interval: 600,
        l3_raw_socket: true,
        timeout: 10.5,
        percentile: [99, 90, 50],
        disable_dynamic_inventories: ['consul'],
        per_host_series_limit: 1024,
        http_header_timeout: 10,
        http_request_timeout: 60,
        http_max_connections: 256,
        rtt_buckets: [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3],
        max_event_loop_lag: 0.1,
        max_probe_rate: 0,
      },
      groups: {
        legacy: group('legacy', {
          src_ipv4: '192.0.2.10',
          src_ipv6: '2001:db8::10',
          src_port_a: 65100,
          src_port_z: 65199,
          ip_payload_size: 100,
          dscp: 46,
        }),
        pool: group('pool', {
          src_ipv4: '192.0.2.20',
          src_subnet_ipv4: '198.51.100.0/29',
          src_subnet_ipv6: '2001:db8:1::/125',
          src_port_a: 65200,
          src_port_z: 65200,
          permit_target_auto_register: false,
        }),
      },
      targets: {
        web1: target('web1', {
          description: 'front web server',
          type: 'TCPsyn',
          destination: 'www.example.com',
          address_family: 'ipv6',
          dont_fragment: false,
          dst_port: 443,
          nb_packets: 10,
          ip_payload_size: 60,
          threshold: { latency: 0.05, loss: 0.1 },
          alert_level: 'paging',
          state: 'in production',
          timeout: 2,
          dns_update_interval: 60,
          explicit_groups: { register_to: ['pool'], exclude_from: ['legacy'] },
        }),
        lan: target('lan', {
          type: 'UDPunreachable',
          destination: '10.1.0.0/30',
          is_subnet: true,
          dst_port: 33434,
          alert_level: 'sandbox',
          state: 'validation',
          dns_update_interval: 300,
        }),
        ping6: target('ping6', { destination: '2001:db8::1', address_family: 'ipv6', dns_update_interval: 300 }),
      },
      checks: { routes: [], conntrack: [], dhcp: [], processes: [] },
      inventories: [],
      tools: {
        whois: { server: 'whois.iana.org', port: 43, timeout: 10, max_referrals: 3, max_bytes: 262144 },
        rdap: { bootstrap_url: 'https://data.iana.org/rdap/', bootstrap_ttl: 86400, timeout: 10, max_redirects: 3, max_bytes: 2097152 },
        rate_limit: { per_minute: 30, concurrent: 4 },
        ipcalc: { max_subnets: 1024, max_prefixes: 1024 },
      },
    };
    assert.deepEqual(config, expected);
    assert.deepEqual(warnings, ['valid-full.yaml:20:5: groups.legacy.src_ip: deprecated alias; write src_ipv4 instead']);
  });

  void it('fills every default of the minimal README config', () => {
    const { config, warnings } = load('valid-minimal.yaml');
    assert.deepEqual(config.global, {
      probe_name: 'lab',
      interval: 30,
      interval_packets: 0,
      nb_proc: 8,
      verbose: 0,
      logging_level: 'INFO',
      prometheus_port: 8000,
      prometheus_address: '0.0.0.0',
      dns_update_interval: 300,
      reload_conf_interval: 0,
      l3_raw_socket: false,
      timeout: 3600,
      percentile: [95, 50],
      disable_dynamic_inventories: [],
      per_host_series_limit: 1024,
      http_header_timeout: 10,
      http_request_timeout: 60,
      http_max_connections: 256,
      rtt_buckets: [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3],
      max_event_loop_lag: 0.1,
      max_probe_rate: 0,
    });
    assert.deepEqual(config.groups, { standard: group('standard', { src_port_a: 65100, src_port_z: 65199 }) });
    const bing = { type: 'TCPsyn', destination: 'bing.com', dst_port: 443, nb_packets: 100, dns_update_interval: 300 } as const;
    assert.deepEqual(config.targets, { bing: target('bing', bing) });
    assert.deepEqual(warnings, []);
  });

  void it('reports warnings with positions and still loads', () => {
    const { config, warnings } = load('valid-warnings.yaml');
    assert.deepEqual(warnings, [
      'valid-warnings.yaml:3:10: groups.both.src_ip: deprecated alias of src_ipv4, ignored because src_ipv4 is set',
      'valid-warnings.yaml:9:18: YAML: Unresolved tag: !custom',
      'valid-warnings.yaml:10:37: targets.web.explicit_groups.register_to[0]: group "ghost" does not exist; ignored',
      'valid-warnings.yaml:11:3: targets.nowhere: belongs to no group; it will not be probed',
    ]);
    assert.equal(config.groups.both?.src_ipv4, '192.0.2.2');
    assert.equal(config.targets.web?.description, 'tagged');
    assert.equal(config.targets.nowhere?.address_family, 'ipv4');
  });

  void it('reads YAML 1.1 like PyYAML: yes/no/on/off booleans and merge keys', () => {
    const { config } = load('valid-yaml11.yaml');
    assert.equal(config.groups.copy?.src_port_a, 65100);
    assert.equal(config.groups.copy?.src_port_z, 65199);
    assert.equal(config.groups.copy?.dscp, 10);
    assert.equal(config.targets.web?.dont_fragment, false);
    assert.equal(config.targets.web?.auto_register_to_groups, true);
    assert.equal(config.targets.web?.is_subnet, false);
  });

  void it('returns a deeply frozen config', () => {
    const { config } = load('valid-full.yaml');
    const web1 = config.targets.web1;
    assert.ok(web1);
    for (const value of [config, config.global, config.global.percentile, config.groups, web1, web1.threshold]) {
      assert.ok(Object.isFrozen(value));
    }
    assert.ok(Object.isFrozen(web1.explicit_groups.register_to));
    assert.throws(() => {
      (config.global.percentile as number[]).push(1);
    }, TypeError);
  });

  void it('detects the address family of IPv6 networks, unlike netprobify', () => {
    const { config } = load('valid-full.yaml');
    const text = readFileSync(FIXTURES + 'valid-full.yaml', 'utf8').replace('10.1.0.0/30', '"2001:db8::/126"');
    assert.equal(config.targets.lan?.address_family, 'ipv4');
    assert.equal(parseConfig(text, 'x.yaml').config.targets.lan?.address_family, 'ipv6');
  });

  void it('computes group membership of the full config', () => {
    const { config } = load('valid-full.yaml');
    const groups = Object.fromEntries(Object.values(config.targets).map((t) => [t.name, groupsOfTarget(config, t)]));
    assert.deepEqual(groups, { web1: ['pool'], lan: ['legacy'], ping6: ['legacy'] });
  });
});

void describe('loadConfigFile', () => {
  void it('reads and parses a file, naming it in the result', async () => {
    const { config } = await loadConfigFile(FIXTURES + 'valid-minimal.yaml');
    assert.equal(config.file, FIXTURES + 'valid-minimal.yaml');
    assert.equal(config.targets.bing?.dst_port, 443);
  });

  void it('fails with CFG_ERR_READ naming the path and the OS reason', async () => {
    const path = FIXTURES + 'does-not-exist.yaml';
    await assert.rejects(loadConfigFile(path), (e: unknown) => {
      assert.ok(isAppError(e, 'CFG_ERR_READ'));
      assert.equal(e.message, `cannot read config file "${path}": no such file or directory (ENOENT)`);
      return true;
    });
  });

  void it('reports the file path in config errors', async () => {
    const path = FIXTURES + 'invalid-dscp-64.yaml';
    await assert.rejects(loadConfigFile(path), {
      code: 'CFG_ERR_INVALID',
      message: `${path}:4:20: groups.standard.dscp: must be <= 63 (got 64)`,
    });
  });
});
