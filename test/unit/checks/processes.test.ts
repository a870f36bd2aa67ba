import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { countProcesses, processesCheck, type ProcessesOptions } from '../../../src/checks/processes.js';
import { matches, parseCmdline, parseComm, parseEffectiveUid, uidFromPasswd } from '../../../src/checks/processes-match.js';
import { FakeClock } from '../../fakes/clock.js';
import { fakeCheckDeps } from '../../fakes/host-check-deps.js';
import { memoryLogger } from '../../fakes/logger.js';

// Compiled to dist/test/unit/checks/: the repository root is four levels up.
const ROOT = fileURLToPath(new URL('../../../../test/fixtures/proc-processes/', import.meta.url));
const PROC = `${ROOT}proc`;
const file = (pid: number, name: string): string => readFileSync(`${PROC}/${pid}/${name}`, 'utf8');

void describe('processes: procfs parsing and matching', () => {
  void it('reads comm, NUL-separated cmdline and the effective uid', () => {
    assert.equal(parseComm(file(27707, 'comm')), 'sleep');
    assert.deepEqual(parseCmdline(file(27707, 'cmdline')), ['/usr/sbin/sshd', '1000']);
    assert.deepEqual(parseCmdline(file(2, 'cmdline')), [], 'kernel thread');
    assert.equal(parseEffectiveUid(file(27706, 'status')), 65534);
    assert.equal(parseEffectiveUid(file(27704, 'status')), 0);
    assert.equal(parseEffectiveUid('Name: x\n'), null);
  });

  void it('looks users up in passwd', () => {
    const passwd = readFileSync(`${ROOT}etc/passwd`, 'utf8');
    assert.equal(uidFromPasswd(passwd, 'nobody'), 65534);
    assert.equal(uidFromPasswd(passwd, 'root'), 0);
    assert.equal(uidFromPasswd(passwd, 'nobod'), null);
  });

  void it('requires every given criterion to match', () => {
    const p = { comm: 'sleep', argv: ['sleep', '1000.424242'], uid: 65534 };
    assert.equal(matches(p, { name: 'sleep', cmdline: /1000\.424242$/, uid: 65534 }), true);
    assert.equal(matches(p, { name: 'sleep', uid: 0 }), false);
    assert.equal(matches(p, { name: 'slee' }), false, 'exact name');
    assert.equal(matches(p, { cmdline: /^sleep 1000/ }), true, 'joined with spaces');
  });
});

void describe('processes: scanning a procfs tree', () => {
  const signal = new AbortController().signal;

  void it('counts matching processes, ignoring non-process entries and processes gone mid-scan', async () => {
    // 424242 has only comm left: counted by name, not when its cmdline or status is needed
    assert.equal(await countProcesses(PROC, { name: 'sleep' }, signal), 5);
    assert.equal(await countProcesses(PROC, { name: 'sleep', cmdline: /./ }, signal), 4);
    assert.equal(await countProcesses(PROC, { name: 'sleep', uid: 0 }, signal), 3);
    assert.equal(await countProcesses(PROC, { cmdline: /^sleep 1000\.424242$/ }, signal), 3);
    assert.equal(await countProcesses(PROC, { cmdline: /^sleep 1000\.424242$/, uid: 0 }, signal), 2);
    assert.equal(await countProcesses(PROC, { cmdline: /sshd/ }, signal), 1);
    assert.equal(await countProcesses(PROC, { name: 'kthreadd' }, signal), 1);
  });

  const options = (more: Partial<ProcessesOptions>): ProcessesOptions => ({
    name: 'p',
    enabled: true,
    interval: 30,
    timeout: 5,
    on_failure: [],
    count_min: 1,
    ...more,
  });
  const run = (o: ProcessesOptions) =>
    processesCheck
      .create(o, fakeCheckDeps({ clock: new FakeClock(), log: memoryLogger().log, paths: { procfs: PROC, sysfs: '/nonexistent' } }))
      .run({ signal });

  void it('exports the count and checks it against the range, resolving user names', async () => {
    const sample = (value: number) => [{ metric: 'wireprobe_process_instances', labels: {}, value }];
    assert.deepEqual(await run(options({ cmdline_regex: '1000\\.424242', user: 'nobody' })), { ok: true, samples: sample(1) });
    assert.deepEqual(await run(options({ cmdline_regex: '1000\\.424242', user: 0, count_max: 1 })), {
      ok: false,
      reason: 'count_out_of_range',
      message: '2 matching processes, expected [1, 1]',
      samples: sample(2),
    });
    assert.deepEqual(await run(options({ process_name: 'sshd' })), {
      ok: false,
      reason: 'process_missing',
      message: 'no matching process, expected [1, ∞]',
      samples: sample(0),
    });
    assert.deepEqual(await run(options({ process_name: 'sshd', count_min: 0 })), { ok: true, samples: sample(0) });
    const unknown = await run(options({ process_name: 'sleep', user: 'nosuchuser' }));
    assert.equal(unknown.reason, 'unknown_user');
    assert.deepEqual(unknown.samples, sample(0));
  });

  void it('stops at an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await assert.rejects(countProcesses(PROC, { name: 'sleep' }, ac.signal));
  });
});
