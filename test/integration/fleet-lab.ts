// The fleet lab: a hub namespace (bridge 198.18.0.1/24, nats-server, AnyIP 198.19.0.0/16 answered
// by its kernel) and member namespaces on that bridge (198.18.0.11, .12, ...), prefix `wpf`.
// Traffic stays inside these namespaces. Every process is started through `spawn` and killed by
// PID; the namespaces are deleted by destroy(), on process exit and signals, and by the next
// createFleetLab() when the process that created them died (marker files in /run/wpf-lab).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPidAlive, runCommand, type RunResult } from '../lab/processes.js';

const STATE = '/run/wpf-lab';
export const HUB_ADDRESS = '198.18.0.1';
export const memberAddress = (i: number): string => `198.18.0.${11 + i}`;

export interface FleetProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
  /** signal by PID, then SIGKILL after graceMs */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface FleetLab {
  readonly id: string;
  readonly tmpDir: string;
  readonly hub: string;
  readonly members: readonly string[];
  exec(ns: string, argv: readonly string[], timeoutMs?: number): Promise<RunResult>;
  spawn(ns: string, argv: readonly string[]): FleetProcess;
  destroy(): Promise<void>;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function deleteNamespaces(names: readonly string[]): void {
  for (const ns of names) {
    try {
      ip(['netns', 'del', ns]);
    } catch {
      // already gone
    }
  }
}

/** Deletes the namespaces of labs whose creating process is dead. */
function reapStale(): void {
  mkdirSync(STATE, { recursive: true });
  for (const f of readdirSync(STATE)) {
    try {
      const rec = JSON.parse(readFileSync(join(STATE, f), 'utf8')) as { pid: number; namespaces: string[]; pids: number[] };
      if (isPidAlive(rec.pid)) continue;
      for (const p of rec.pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
      deleteNamespaces(rec.namespaces);
      unlinkSync(join(STATE, f));
    } catch {
      // unreadable marker: left alone
    }
  }
}

export function createFleetLab(members: number): FleetLab {
  reapStale();
  const id = randomBytes(2).toString('hex');
  const hub = `wpf${id}h`;
  const names = Array.from({ length: members }, (_, i) => `wpf${id}m${i}`);
  const all = [hub, ...names];
  const pids = new Set<number>();
  const marker = join(STATE, `${id}.json`);
  const writeMarker = (): void => writeFileSync(marker, JSON.stringify({ pid: process.pid, namespaces: all, pids: [...pids] }));
  writeMarker();
  const tmpDir = mkdtempSync(join(tmpdir(), `wpf-${id}-`));
  let destroyed = false;
  const procs: FleetProcess[] = [];

  const syncCleanup = (): void => {
    if (destroyed) return;
    destroyed = true;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    deleteNamespaces(all);
    rmSync(marker, { force: true });
    rmSync(tmpDir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    syncCleanup();
    process.kill(process.pid, sig);
  };
  process.once('exit', syncCleanup);
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, onSignal);

  try {
    for (const ns of all) ip(['netns', 'add', ns]);
    ip(['-n', hub, 'link', 'set', 'lo', 'up']);
    ip(['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', hub, 'addr', 'add', `${HUB_ADDRESS}/24`, 'dev', 'br0']);
    ip(['-n', hub, 'link', 'set', 'br0', 'up']);
    ip(['-n', hub, 'route', 'add', 'local', '198.19.0.0/16', 'dev', 'lo']);
    execFileSync('ip', ['netns', 'exec', hub, 'sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0']);
    names.forEach((ns, i) => {
      const hubSide = `v${i}`;
      ip(['link', 'add', hubSide, 'netns', hub, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ip(['-n', hub, 'link', 'set', hubSide, 'master', 'br0', 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'addr', 'add', `${memberAddress(i)}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      ip(['-n', ns, 'route', 'add', '198.19.0.0/16', 'via', HUB_ADDRESS]);
    });
  } catch (e) {
    syncCleanup();
    throw e;
  }

  return {
    id,
    tmpDir,
    hub,
    members: names,
    exec: (ns, argv, timeoutMs = 30_000) => runCommand(['ip', 'netns', 'exec', ns, ...argv], { timeoutMs }),
    spawn(ns, argv) {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      const pid = child.pid;
      if (pid === undefined) throw new Error(`cannot start ${argv.join(' ')}`);
      pids.add(pid);
      writeMarker();
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
        pids.delete(pid);
        resolve(code);
      }));
      const proc: FleetProcess = {
        pid,
        child,
        output: () => out,
        exited,
        async stop(signal = 'SIGTERM', graceMs = 5000) {
          if (!pids.has(pid)) return;
          process.kill(pid, signal);
          const t = setTimeout(() => {
            if (pids.has(pid)) process.kill(pid, 'SIGKILL');
          }, graceMs);
          await exited;
          clearTimeout(t);
        },
      };
      procs.push(proc);
      return proc;
    },
    async destroy() {
      await Promise.all(procs.map((p) => p.stop('SIGTERM', 3000)));
      syncCleanup();
      process.removeListener('exit', syncCleanup);
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeListener(s, onSignal);
    },
  };
}
