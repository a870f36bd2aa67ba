import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { groupsOfTarget } from '../../../src/config/membership.js';

const CONFIG = `
global: {probe_name: lab, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}
groups:
  zeta: {}
  alpha: {}
  manual: {permit_target_auto_register: false}
targets:
  auto: {type: ICMPping, destination: a.example.com}
  plus: {type: ICMPping, destination: a.example.com, explicit_groups: {register_to: [manual, alpha, ghost]}}
  minus: {type: ICMPping, destination: a.example.com, explicit_groups: {exclude_from: [zeta, ghost]}}
  only: {type: ICMPping, destination: a.example.com, auto_register_to_groups: false, explicit_groups: {register_to: [manual]}}
  wins: {type: ICMPping, destination: a.example.com, explicit_groups: {register_to: [manual], exclude_from: [manual]}}
  none: {type: ICMPping, destination: a.example.com, auto_register_to_groups: false}
`;

/** target → its groups (sorted, deduplicated, existing only). */
const EXPECTED: readonly [string, string[]][] = [
  ['auto', ['alpha', 'zeta']],
  ['plus', ['alpha', 'manual', 'zeta']],
  ['minus', ['alpha']],
  ['only', ['manual']],
  ['wins', ['alpha', 'zeta']],
  ['none', []],
];

void describe('groupsOfTarget', () => {
  const { config } = parseConfig(CONFIG, 'membership.yaml');
  for (const [name, groups] of EXPECTED) {
    void it(`${name} → [${groups.join(', ')}]`, () => {
      const target = config.targets[name];
      assert.ok(target);
      assert.deepEqual(groupsOfTarget(config, target), groups);
    });
  }
});
