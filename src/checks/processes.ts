/**
 * Processes check: scans `<procfs>/<pid>/` (comm, cmdline, status as needed), counts the
 * processes matching a name, a command-line pattern and optionally a user, and checks the count
 * is within [count_min, count_max]. A process that exits during the scan is simply not counted.
 * The user name is looked up at each run in `<procfs>/../etc/passwd` (/etc/passwd on a host;
 * a fixture tree in tests).
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CheckInstanceConfig } from '../config/types.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import { filesNeeded, matches, parseCmdline, parseComm, parseEffectiveUid, uidFromPasswd, type ProcessMatcher } from './processes-match.js';
import type { CheckDeps, CheckKind, CheckResult } from './types.js';

export interface ProcessesOptions extends CheckInstanceConfig {
  readonly process_name?: string;
  readonly cmdline_regex?: string;
  readonly user?: string | number;
  readonly count_min: number;
  readonly count_max?: number;
}

/** processes read at once */
const BATCH = 64;

/** A process gone mid-scan (ENOENT, ESRCH) reads as null; other errors are coded. */
async function readOrNull(path: string, signal: AbortSignal): Promise<string | null> {
  try {
    return await readFile(path, { encoding: 'utf8', signal });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    if (code === 'EACCES' || code === 'EPERM') throw new AppError(ErrorCodes.CHK_ERR_PERMISSION, `cannot read ${path}: ${code}`, { cause: e });
    throw e;
  }
}

async function resolveUid(user: string | number | undefined, passwdPath: string, signal: AbortSignal): Promise<number | null | undefined> {
  if (user === undefined) return undefined;
  if (typeof user === 'number') return user;
  if (/^\d+$/.test(user)) return Number(user);
  const passwd = await readOrNull(passwdPath, signal);
  return passwd === null ? null : uidFromPasswd(passwd, user);
}

/** Whether the process `pid` matches; false when it vanished before every needed file was read. */
async function processMatches(dir: string, m: ProcessMatcher, signal: AbortSignal): Promise<boolean> {
  const need = filesNeeded(m);
  const [comm, cmdline, status] = await Promise.all([
    need.comm ? readOrNull(join(dir, 'comm'), signal) : '',
    need.cmdline ? readOrNull(join(dir, 'cmdline'), signal) : '',
    need.status ? readOrNull(join(dir, 'status'), signal) : '',
  ]);
  if (comm === null || cmdline === null || status === null) return false;
  return matches(
    {
      comm: need.comm ? parseComm(comm) : null,
      argv: need.cmdline ? parseCmdline(cmdline) : null,
      uid: need.status ? parseEffectiveUid(status) : null,
    },
    m,
  );
}

export async function countProcesses(procfs: string, m: ProcessMatcher, signal: AbortSignal): Promise<number> {
  const pids = (await readdir(procfs)).filter((e) => /^[0-9]+$/.test(e));
  let count = 0;
  for (let i = 0; i < pids.length; i += BATCH) {
    signal.throwIfAborted();
    const found = await Promise.all(pids.slice(i, i + BATCH).map((pid) => processMatches(join(procfs, pid), m, signal)));
    count += found.filter(Boolean).length;
  }
  return count;
}

function verdict(o: ProcessesOptions, count: number): CheckResult {
  const samples = [{ metric: 'wireprobe_process_instances', labels: {}, value: count }];
  const range = `[${o.count_min}, ${o.count_max ?? '∞'}]`;
  if (count === 0 && o.count_min > 0) return { ok: false, reason: 'process_missing', message: `no matching process, expected ${range}`, samples };
  if (count < o.count_min || (o.count_max !== undefined && count > o.count_max)) {
    return { ok: false, reason: 'count_out_of_range', message: `${count} matching processes, expected ${range}`, samples };
  }
  return { ok: true, samples };
}

function createProcesses(o: ProcessesOptions, deps: CheckDeps) {
  const procfs = deps.paths.procfs;
  const passwdPath = join(dirname(procfs), 'etc', 'passwd');
  const base: ProcessMatcher = {
    ...(o.process_name !== undefined ? { name: o.process_name } : {}),
    ...(o.cmdline_regex !== undefined ? { cmdline: new RegExp(o.cmdline_regex) } : {}),
  };
  return {
    async run({ signal }: { signal: AbortSignal }): Promise<CheckResult> {
      const uid = await resolveUid(o.user, passwdPath, signal);
      if (uid === null) {
        const samples = [{ metric: 'wireprobe_process_instances', labels: {}, value: 0 }];
        return { ok: false, reason: 'unknown_user', message: `user ${JSON.stringify(o.user)} is not in ${passwdPath}`, samples };
      }
      const matcher = uid === undefined ? base : { ...base, uid };
      return verdict(o, await countProcesses(procfs, matcher, signal));
    },
  };
}

export const processesCheck: CheckKind<ProcessesOptions> = {
  kind: 'processes',
  metrics: [
    {
      name: 'wireprobe_process_instances',
      help: 'Running processes matching the check (name, command line, user); 0 when none was ever seen',
      type: 'gauge',
      labelNames: [],
    },
  ],
  create: (options, deps) => createProcesses(options, deps),
};
