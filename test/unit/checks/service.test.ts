import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckRecorder } from '../../../src/checks/recorder.js';
import { createChecksService } from '../../../src/checks/service.js';
import type { CheckKind } from '../../../src/checks/types.js';
import type { CheckInstanceConfig, Config } from '../../../src/config/types.js';
import { FakeClock } from '../../fakes/clock.js';
import { fakeCheckDeps } from '../../fakes/host-check-deps.js';
import { memoryLogger } from '../../fakes/logger.js';

const instance = (name: string, enabled = true): CheckInstanceConfig => ({ name, enabled, interval: 10, timeout: 2, on_failure: [] });

function section(processes: CheckInstanceConfig[]): Config['checks'] {
  return { routes: [], conntrack: [], dhcp: [], processes };
}

const withChecks = (checks: Config['checks']): Config => ({ checks }) as Config;

void describe('host checks service', () => {
  const setup = () => {
    const clock = new FakeClock();
    const { log, lines } = memoryLogger();
    const runs: string[] = [];
    const events: string[] = [];
    const kind: CheckKind<CheckInstanceConfig> = {
      kind: 'processes',
      metrics: [],
      create: (o) => ({
        run: () => {
          runs.push(o.name);
          return Promise.resolve({ ok: true, samples: [] });
        },
      }),
    };
    const recorder: CheckRecorder = {
      prime: (_k, name) => events.push(`prime ${name}`),
      run: (_k, name) => events.push(`run ${name}`),
      skipped: () => undefined,
      action: () => undefined,
      forget: (_k, name) => events.push(`forget ${name}`),
    };
    const service = createChecksService({
      kinds: { processes: kind },
      checks: section([instance('a'), instance('b')]),
      recorder,
      checkDeps: fakeCheckDeps({ clock, log }),
      clock,
      log,
    });
    return { clock, lines, runs, events, service };
  };

  void it('an unchanged section leaves the runner alone', async () => {
    const { clock, runs, events, service } = setup();
    service.start();
    await clock.advance(0);
    assert.deepEqual(runs, ['a']);
    assert.equal(await service.reload(withChecks(section([instance('a'), instance('b')]))), 'unchanged');
    await clock.advance(5000);
    assert.deepEqual(runs, ['a', 'b'], 'the first runs keep their spread, nothing restarted');
    assert.ok(!events.some((e) => e.startsWith('forget')));
    await service.stop(0);
  });

  void it('a changed section restarts the runner and forgets removed or disabled instances', async () => {
    const { clock, lines, runs, events, service } = setup();
    service.start();
    await clock.advance(0);
    assert.equal(await service.reload(withChecks(section([instance('a', false), instance('c')]))), 'applied');
    assert.deepEqual(events.filter((e) => e.startsWith('forget')), ['forget a', 'forget b']);
    assert.deepEqual(service.summary(), { checks: 1 });
    assert.ok(lines.some((l) => l.includes('host checks reloaded') && l.includes('checks=1')));
    await clock.advance(0);
    assert.deepEqual(runs, ['a', 'c']);
    await service.stop(0);
    await clock.advance(60_000);
    assert.deepEqual(runs, ['a', 'c'], 'nothing runs after the stop');
  });
});
