// A set of throw-away network namespaces owned by this process: registered (lab-registry.ts) before
// anything is created, so a crash mid-setup is still reaped; commands and processes run inside one
// of them by node name; destroy() stops the processes (by PID), deletes the namespaces and checks
// that none is left. The two-namespace lab (lab.ts) and the multi-hop lab (hops-lab.ts) build on it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cleanupRecordSync, listNamespaces, reapStaleLabs, registerLab, trackedPids, trackPid, unregisterLab, untrackPid,
  type LabRecord,
} from './lab-registry.js';
import { processStartTime, runChecked, runCommand, spawnProcess, type LabProcess, type RunResult, type SpawnOptions } from './processes.js';
import { LAB_TOOLS, requireRoot, requireTools } from './require-tools.js';

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
}

export interface NamespaceSet<N extends string> {
  readonly id: string;
  readonly name: string;
  readonly tmpDir: string;
  readonly ns: (node: N) => string;
  /** `ip -n NS …`, failing on a non-zero exit */
  readonly ip: (node: N, args: readonly string[]) => Promise<RunResult>;
  /** `sysctl -qw k=v …` inside the namespace, failing on a non-zero exit */
  readonly sysctls: (node: N, kv: Record<string, string | number>) => Promise<RunResult>;
  /** `nft -f -` inside the namespace with `script` on stdin */
  readonly nft: (node: N, script: string) => Promise<RunResult>;
  readonly exec: (node: N, argv: readonly string[], o?: ExecOptions) => Promise<RunResult>;
  readonly spawn: (node: N, argv: readonly string[], o?: SpawnOptions) => LabProcess;
  readonly destroy: () => Promise<void>;
  /** destroy() has been called */
  readonly isDestroyed: () => boolean;
}

/**
 * Checks root and the lab tools, reaps the labs of dead processes, picks an id and registers the
 * namespaces `nsOf(id, node)` of every node (they are not created here) and a temporary folder
 * `${tmpPrefix}-${id}-${name}-…`.
 */
export function openNamespaceSet<N extends string>(o: {
  what: string;
  name: string;
  tmpPrefix: string;
  nodes: readonly N[];
  nsOf: (id: string, node: N) => string;
}): NamespaceSet<N> {
  requireRoot();
  requireTools(LAB_TOOLS);
  reapStaleLabs();
  const id = randomBytes(3).toString('hex');
  const name = o.name.replace(/[^a-zA-Z0-9_.-]/g, '_').slice(0, 40);
  const ns = (node: N): string => o.nsOf(id, node);
  const namespaces = o.nodes.map(ns);
  if (listNamespaces().some((n) => namespaces.includes(n))) throw new Error(`${o.what}: a namespace of ${id} exists already`);
  const tmpDir = mkdtempSync(join(tmpdir(), `${o.tmpPrefix}-${id}-${name}-`));
  const record: LabRecord = {
    id, name, pid: process.pid, pidStart: processStartTime(process.pid), namespaces, tmpDir,
    keepTmp: process.env['WPT_LAB_KEEP'] === '1', createdAt: new Date().toISOString(),
  };
  registerLab(record);
  const processes = new Map<number, LabProcess>();
  let destroyed: Promise<void> | undefined;
  const inNs = (node: N, argv: readonly string[]): string[] => ['ip', 'netns', 'exec', ns(node), ...argv];

  return {
    id, name, tmpDir, ns,
    ip: (node, args) => runChecked(['ip', '-n', ns(node), ...args]),
    sysctls: (node, kv) => runChecked(inNs(node, ['sysctl', '-qw', ...Object.entries(kv).map(([k, v]) => `${k}=${v}`)])),
    nft: (node, script) => runChecked(inNs(node, ['nft', '-f', '-']), { input: script }),
    exec: (node, argv, eo = {}) => runCommand(inNs(node, argv), eo),
    spawn: (node, argv, so = {}) => {
      if (destroyed !== undefined) throw new Error(`${o.what}: spawn after destroy()`);
      const p = spawnProcess(inNs(node, argv), { cwd: tmpDir, ...so });
      processes.set(p.pid, p);
      trackPid(id, p.pid);
      void p.exited.then(() => untrackPid(id, p.pid));
      return p;
    },
    destroy: () => {
      destroyed ??= (async () => {
        // graceful first (by PID), then the synchronous teardown kills whatever is left in our namespaces
        await Promise.all([...processes.values()].map((p) => p.stop('SIGTERM', 3000)));
        cleanupRecordSync(record, trackedPids(id));
        unregisterLab(id);
        const left = listNamespaces().filter((n) => namespaces.includes(n));
        if (left.length > 0) throw new Error(`${o.what}: namespaces still present after destroy: ${left.join(', ')}`);
      })();
      return destroyed;
    },
    isDestroyed: () => destroyed !== undefined,
  };
}
