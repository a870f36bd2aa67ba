import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Config } from '../../../src/config/types.js';
import { TargetSet } from '../../../src/targets/target-set.js';
import { memoryLogger } from '../../fakes/logger.js';
import { configOf } from './fixtures.js';

const GROUPS = { g: '{src_port_a: 65000, src_port_z: 65001}' };

void test('origins: the file owns its names, the API and inventories add theirs, a name taken is refused', async () => {
  const file = configOf(GROUPS, { a: '{type: ICMPping, destination: 198.18.0.1}', b: '{type: ICMPping, destination: 198.18.0.2}' });
  const other = configOf(GROUPS, { b: '{type: ICMPping, destination: 198.18.1.2}', c: '{type: ICMPping, destination: 198.18.1.3}', d: '{type: ICMPping, destination: 198.18.1.4}' });
  const applied: Config[] = [];
  const { log, lines } = memoryLogger();
  const set = new TargetSet(file, (c) => Promise.resolve(void applied.push(c)), log);
  // nothing but the file: the file config itself is the running set
  assert.equal(set.merged(), file);
  assert.deepEqual([set.ownerOf('a'), set.ownerOf('c')], ['file', undefined]);
  set.replace('inventory:x', [other.targets.c!, other.targets.d!]);
  set.replace('api', [other.targets.b!, other.targets.c!]);
  await set.settled();
  assert.deepEqual(Object.keys(set.merged().targets), ['a', 'b', 'c', 'd']);
  assert.equal(set.merged().targets.b, file.targets.b, 'the file keeps its name');
  assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map((n) => set.ownerOf(n)), ['file', 'file', 'api', 'inventory:x', undefined]);
  assert.deepEqual([...set.running()].map((r) => `${r.target.name}:${r.origin}`), ['a:file', 'b:file', 'c:api', 'd:inventory:x']);
  assert.equal(lines.filter((l) => l.includes('already used')).length, 2, 'b from the API, c from the inventory');
  set.replace('api', []);
  set.replace('inventory:x', []);
  await set.settled();
  assert.equal(set.merged(), file);
  assert.equal(applied.at(-1), file);
  assert.equal(set.ownerOf('c'), undefined);
});
