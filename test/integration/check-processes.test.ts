// Processes check end to end: `sleep` processes with a unique argument started and killed (by PID)
// by the test, counted by a real wireprobe (checks only) and read from /metrics; an on_failure
// action runs once per transition to failure.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { stringify } from 'yaml';
import { labSuite } from '../lab/harness.js';
import { DEFAULT_GLOBAL, find, type LabProcess, type Sample } from '../lab/index.js';

const count = (s: Sample[], name: string): number | undefined => find(s, 'wireprobe_process_instances', { name })?.value;
const reason = (s: Sample[], name: string): string | undefined =>
  s.find((x) => x.name === 'wireprobe_check_failure_reason' && x.labels['name'] === name)?.labels['reason'];

void describe('check-processes', { timeout: 90_000 }, () => {
  const suite = labSuite('check-processes', [{ bin: 'sleep', pkg: 'coreutils' }, { bin: 'touch', pkg: 'coreutils' }]);

  suite.test('counts processes started and killed by the test; a process never seen is 0', async () => {
    const lab = suite.lab();
    // a duration no other process uses: the marker of this test's sleeps
    const arg = `3600.${randomInt(100_000, 999_999)}${randomInt(100_000, 999_999)}`;
    const marks = join(lab.tmpDir, 'marks');
    const yaml = stringify(
      {
        global: { ...DEFAULT_GLOBAL, prometheus_port: 9782 },
        groups: {},
        checks: {
          processes: [
            {
              name: 'sleepers',
              cmdline_regex: `^sleep ${arg.replace('.', '\\.')}$`,
              user: 'root',
              count_min: 2,
              count_max: 3,
              interval: 1,
              timeout: 2,
              on_failure: [{ exec: ['touch', `${marks}-{name}-{reason}`], timeout: 5 }],
            },
            { name: 'never', process_name: 'wptnever', interval: 1 },
          ],
        },
      },
      { lineWidth: 0 },
    );
    const wp = await suite.start(yaml);
    const sleepers: LabProcess[] = [];
    const start = (n: number): void => {
      for (let i = 0; i < n; i++) sleepers.push(lab.spawn('probe', ['sleep', arg]));
    };
    const kill = async (n: number): Promise<void> => {
      for (const p of sleepers.splice(0, n)) await p.stop('SIGKILL', 2000);
    };
    const wait = (what: string, pred: (s: Sample[]) => boolean): Promise<Sample[]> => wp.waitForScrape(pred, { timeoutMs: 15_000, what, intervalMs: 300 });

    let s = await wait('no sleeper yet', (x) => count(x, 'sleepers') === 0 && count(x, 'never') === 0);
    assert.equal(reason(s, 'sleepers'), 'process_missing');
    assert.equal(reason(s, 'never'), 'process_missing');
    start(2);
    s = await wait('two sleepers', (x) => count(x, 'sleepers') === 2);
    assert.equal(find(s, 'wireprobe_check_success', { check: 'processes', name: 'sleepers' })?.value, 1);
    assert.equal(reason(s, 'sleepers'), undefined);
    start(2);
    s = await wait('four sleepers', (x) => count(x, 'sleepers') === 4);
    assert.equal(reason(s, 'sleepers'), 'count_out_of_range');
    await kill(3);
    s = await wait('one sleeper left', (x) => count(x, 'sleepers') === 1);
    assert.equal(reason(s, 'sleepers'), 'count_out_of_range');
    await kill(1);
    s = await wait('all killed', (x) => count(x, 'sleepers') === 0 && reason(x, 'sleepers') === 'process_missing');
    assert.equal(count(s, 'never'), 0);

    // failure transitions: never-run → missing (1), ok → out of range (2); none while it kept failing
    const actions = (x: Sample[]): number | undefined => find(x, 'wireprobe_check_actions_total', { check: 'processes', name: 'sleepers', result: 'ok' })?.value;
    s = await wait('two actions', (x) => actions(x) === 2);
    assert.ok(existsSync(`${marks}-sleepers-process_missing`));
    assert.ok(existsSync(`${marks}-sleepers-count_out_of_range`));
    assert.equal(find(s, 'wireprobe_check_runs_total', { check: 'processes', name: 'sleepers', result: 'skipped' })?.value, 0);
  });
});
