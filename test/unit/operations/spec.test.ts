/** Operation requests: schema, defaults, the checks beyond the schema, and what a spec costs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSpecValidator, leastDuration, OPERATION_KINDS, packetBudget, SPEC_SCHEMAS } from '../../../src/operations/spec.js';
import type { OperationSpec } from '../../../src/operations/types.js';

const validate = createSpecValidator();
const ok = (body: unknown): OperationSpec => {
  const r = validate(body);
  assert.ok(r.ok, JSON.stringify(r));
  return r.spec;
};
const problems = (body: unknown): string[] => {
  const r = validate(body);
  assert.ok(!r.ok, `accepted ${JSON.stringify(body)}`);
  return r.problems.map((p) => `${p.path}: ${p.message}`);
};

void describe('operation spec schema', () => {
  void it('bounds every number and closes every kind', () => {
    for (const kind of OPERATION_KINDS) {
      const s = SPEC_SCHEMAS[kind] as { additionalProperties: unknown; properties: Record<string, Record<string, unknown>> };
      assert.equal(s.additionalProperties, false, kind);
      for (const [key, p] of Object.entries(s.properties)) {
        if (p.type === 'integer' || p.type === 'number') {
          if (Array.isArray(p.enum)) continue;
          assert.equal(typeof p.minimum, 'number', `${kind}.${key} minimum`);
          assert.equal(typeof p.maximum, 'number', `${kind}.${key} maximum`);
        }
        if (p.type === 'string') assert.equal(typeof p.maxLength === 'number' || Array.isArray(p.enum), true, `${kind}.${key} maxLength`);
      }
    }
  });

  void it('fills the defaults of each kind, per protocol for port and size', () => {
    assert.deepEqual(ok({ kind: 'ping', destination: '198.18.0.1' }), {
      kind: 'ping', destination: '198.18.0.1', protocol: 'icmp', dscp: 0, timeout: 2, count: 5, interval: 1, size: 56,
    });
    assert.deepEqual(ok({ kind: 'traceroute', destination: 'example.test', protocol: 'udp' }), {
      kind: 'traceroute', destination: 'example.test', protocol: 'udp', dscp: 0, timeout: 2, maxHops: 30, queries: 3, paths: 1,
      resolve: true, asn: false, port: 33434, size: 32,
    });
    const mtr = ok({ kind: 'mtr', destination: '2001:db8::1', protocol: 'tcp', port: 443, size: 10 });
    assert.deepEqual([mtr.port, mtr.size, mtr.kind === 'mtr' ? mtr.cycles : 0], [443, 10, 10]);
  });

  void it('does not change the body it checks', () => {
    const body = { kind: 'ping', destination: '198.18.0.1' };
    ok(body);
    assert.deepEqual(body, { kind: 'ping', destination: '198.18.0.1' });
  });

  void it('refuses unknown kinds and keys, wrong types and out-of-bound numbers with key paths', () => {
    assert.deepEqual(problems({ kind: 'scan', destination: '198.18.0.1' }), ['kind: must be one of ping, traceroute, mtr']);
    assert.deepEqual(problems([]), [': must be a JSON object']);
    assert.deepEqual(problems({ kind: 'ping' }), ['destination: is required']);
    assert.deepEqual(problems({ kind: 'ping', destination: '198.18.0.1', maxHops: 3 }), ['maxHops: unknown key']);
    assert.deepEqual(problems({ kind: 'ping', destination: '198.18.0.1', count: '5' }), ['count: must be integer']);
    assert.deepEqual(problems({ kind: 'ping', destination: '198.18.0.1', count: 10001 }), ['count: must be <= 10000']);
    assert.deepEqual(problems({ kind: 'ping', destination: '198.18.0.1', interval: 0.01 }), ['interval: must be >= 0.2']);
    assert.deepEqual(problems({ kind: 'ping', destination: '198.18.0.1', protocol: 'raw' }), ['protocol: must be one of "icmp", "tcp", "udp"']);
    assert.deepEqual(problems({ kind: 'traceroute', destination: '198.18.0.1', maxHops: 1e308 }), ['maxHops: must be <= 64']);
    assert.deepEqual(problems({ kind: 'mtr', destination: '198.18.0.1', family: 5 }), ['family: must be one of 4, 6']);
  });

  void it('checks what the schema cannot: addresses, names, port only for tcp/udp, families that agree', () => {
    assert.deepEqual(problems({ kind: 'ping', destination: '-x.example' }), ['destination: must be an IPv4 or IPv6 address or a host name']);
    assert.deepEqual(problems({ kind: 'ping', destination: '198.18.0.1; rm -rf /' }), ['destination: must be an IPv4 or IPv6 address or a host name']);
    assert.deepEqual(problems({ kind: 'ping', destination: '198.18.0.1', port: 80 }), ['port: only for the tcp and udp protocols']);
    assert.deepEqual(problems({ kind: 'ping', destination: '198.18.0.1', family: 6 }), ['family: does not match the destination address (ipv4)']);
    assert.deepEqual(problems({ kind: 'ping', destination: '198.18.0.1', source: 'eth0' }), ['source: must be an IPv4 or IPv6 address']);
    assert.deepEqual(problems({ kind: 'ping', destination: '198.18.0.1', source: '2001:db8::1' }), ['source: is ipv6, the destination is ipv4']);
    assert.deepEqual(problems({ kind: 'ping', destination: 'h.example', family: 4, source: '2001:db8::1' }), ['source: is ipv6, family is 4']);
  });
});

void describe('packet budget and least duration', () => {
  void it('ping: count; traceroute: maxHops × queries × paths; mtr: maxHops × cycles', () => {
    assert.equal(packetBudget(ok({ kind: 'ping', destination: '198.18.0.1', count: 7 })), 7);
    assert.equal(packetBudget(ok({ kind: 'traceroute', destination: '198.18.0.1', maxHops: 20, queries: 3, paths: 4 })), 240);
    assert.equal(packetBudget(ok({ kind: 'mtr', destination: '198.18.0.1', maxHops: 16, cycles: 50 })), 800);
  });
  void it('ping and mtr: spacing plus the last wait; traceroute: unknown', () => {
    assert.equal(leastDuration(ok({ kind: 'ping', destination: '198.18.0.1', count: 10, interval: 0.5, timeout: 3 })), 7.5);
    assert.equal(leastDuration(ok({ kind: 'mtr', destination: '198.18.0.1', cycles: 100, interval: 2, timeout: 1 })), 199);
    assert.equal(leastDuration(ok({ kind: 'traceroute', destination: '198.18.0.1' })), null);
  });
});
