// Bookkeeping that guarantees lab namespaces are deleted: a marker file per lab under /run/wpt-lab/
// (records the creating PID), synchronous cleanup on process 'exit' / SIGINT / SIGTERM / SIGHUP, and
// reaping of labs whose creating process is dead.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPidAlive, isSameProcessAlive } from './processes.js';

export const STATE_DIR = '/run/wpt-lab';
/** `ip netns exec NS` bind-mounts the files of /etc/netns/NS/ over /etc/ (iproute2 feature). */
export const ETC_NETNS = '/etc/netns';
export const NS_PREFIX = 'wpt';
/** every prefix of the labs' namespaces: lab.ts' and the multi-hop lab's (hops-lab.ts) */
export const OWN_NS_PREFIXES: readonly string[] = [NS_PREFIX, 'wpo'];

export interface LabRecord {
  readonly id: string;
  readonly name: string;
  readonly pid: number;
  readonly pidStart: string | undefined;
  readonly namespaces: readonly string[];
  readonly tmpDir: string;
  readonly keepTmp: boolean;
  readonly createdAt: string;
}

interface ActiveLab {
  readonly record: LabRecord;
  readonly pids: Set<number>;
}

const active = new Map<string, ActiveLab>();
let hooksInstalled = false;

function markerPath(id: string): string {
  return join(STATE_DIR, `${id}.json`);
}

function ipSync(args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

export function listNamespaces(): string[] {
  return ipSync(['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

function killSync(pid: number): void {
  if (pid <= 1 || pid === process.pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** PIDs of processes inside a namespace we created (hence started by us or by our children). */
export function pidsInNamespace(ns: string): number[] {
  return ipSync(['netns', 'pids', ns])
    .split('\n')
    .map((l) => Number.parseInt(l.trim(), 10))
    .filter((n) => Number.isInteger(n) && n > 1);
}

/** Synchronous teardown usable from an 'exit' handler. Idempotent. */
export function cleanupRecordSync(record: LabRecord, trackedPids: Iterable<number>): void {
  for (const pid of trackedPids) killSync(pid);
  for (const ns of record.namespaces) {
    if (!OWN_NS_PREFIXES.some((p) => ns.startsWith(p))) continue; // never touch anything but our own namespaces
    for (const pid of pidsInNamespace(ns)) killSync(pid);
    if (listNamespaces().includes(ns)) ipSync(['netns', 'del', ns]);
    rmSync(join(ETC_NETNS, ns), { recursive: true, force: true });
  }
  try {
    rmdirSync(ETC_NETNS); // only succeeds when empty (we may have created it)
  } catch {
    // not empty or absent
  }
  if (!record.keepTmp) rmSync(record.tmpDir, { recursive: true, force: true });
  rmSync(markerPath(record.id), { force: true });
}

function cleanupAllSync(): void {
  for (const lab of active.values()) {
    try {
      cleanupRecordSync(lab.record, lab.pids);
    } catch {
      // best effort while exiting
    }
  }
  active.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupAllSync);
  const signals: [NodeJS.Signals, number][] = [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ];
  for (const [sig, code] of signals) {
    process.on(sig, () => {
      cleanupAllSync();
      process.exit(code);
    });
  }
}

export function registerLab(record: LabRecord): void {
  installHooks();
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(markerPath(record.id), `${JSON.stringify(record, null, 2)}\n`);
  active.set(record.id, { record, pids: new Set() });
}

export function trackPid(id: string, pid: number): void {
  active.get(id)?.pids.add(pid);
}

export function untrackPid(id: string, pid: number): void {
  active.get(id)?.pids.delete(pid);
}

export function trackedPids(id: string): number[] {
  return [...(active.get(id)?.pids ?? [])].filter(isPidAlive);
}

export function unregisterLab(id: string): void {
  active.delete(id);
}

function readRecord(file: string): LabRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<LabRecord>;
    if (typeof r.id !== 'string' || typeof r.pid !== 'number' || !Array.isArray(r.namespaces)) return undefined;
    return r as LabRecord;
  } catch {
    return undefined;
  }
}

/**
 * Deletes labs (namespaces, /etc/netns entries, temp dirs, markers) whose creating process is dead.
 * Labs of live processes, and `wpt*` namespaces without a marker, are left alone. Returns the
 * namespaces deleted.
 */
export function reapStaleLabs(): string[] {
  let files: string[];
  try {
    files = readdirSync(STATE_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const reaped: string[] = [];
  for (const f of files) {
    const record = readRecord(join(STATE_DIR, f));
    if (record === undefined) continue;
    if (active.has(record.id)) continue;
    if (isSameProcessAlive(record.pid, record.pidStart)) continue;
    cleanupRecordSync(record, []);
    reaped.push(...record.namespaces);
  }
  return reaped;
}
