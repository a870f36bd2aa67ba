// Two throw-away namespaces for the conntrack check's integration test and benchmark:
//   wptc<id>a (clients) 198.18.30.1/24 (+ extra source addresses), 2001:db8:30::1/64
//     ── veth ── wptc<id>b (servers) 198.18.30.2/24, 2001:db8:30::2/64, nftables `ct state new` rule
// in prerouting so that its conntrack table tracks what arrives. Nothing else is touched: the
// namespaces, their processes (started here, killed by PID) and their tables go away in destroy(),
// also on process exit.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { runChecked, runCommand, type RunResult } from '../lab/index.js';
import { spawnProcess, type LabProcess } from '../lab/processes.js';

export const CT_NET = {
  client4: '198.18.30.1',
  server4: '198.18.30.2',
  client6: '2001:db8:30::1',
  server6: '2001:db8:30::2',
} as const;

export type CtSide = 'client' | 'server';

export interface CtNamespaces {
  readonly client: string;
  readonly server: string;
  exec(side: CtSide, argv: readonly string[], timeoutMs?: number): Promise<RunResult>;
  /** throws unless the command exits 0 */
  run(side: CtSide, argv: readonly string[], input?: string, timeoutMs?: number): Promise<RunResult>;
  spawn(side: CtSide, argv: readonly string[]): LabProcess;
  /** adds IPv4 source addresses on the client's veth */
  addClientAddresses(addresses: readonly string[]): Promise<void>;
  destroy(): Promise<void>;
}

const NFT_TRACK = `table inet wptc {
  chain pre { type filter hook prerouting priority 0; ct state new counter; }
}
`;

export async function createCtNamespaces(): Promise<CtNamespaces> {
  const id = randomBytes(3).toString('hex');
  const ns: Record<CtSide, string> = { client: `wptc${id}a`, server: `wptc${id}b` };
  const procs = new Map<number, LabProcess>();
  const cleanupSync = (): void => {
    for (const p of procs.values()) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (const name of Object.values(ns)) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // not created, or gone
      }
    }
  };
  process.once('exit', cleanupSync);
  const inNs = (side: CtSide, argv: readonly string[]): string[] => ['ip', 'netns', 'exec', ns[side], ...argv];
  const api: CtNamespaces = {
    client: ns.client,
    server: ns.server,
    exec: (side, argv, timeoutMs = 15_000) => runCommand(inNs(side, argv), { timeoutMs }),
    run: (side, argv, input, timeoutMs = 15_000) => runChecked(inNs(side, argv), { timeoutMs, ...(input === undefined ? {} : { input }) }),
    spawn: (side, argv) => {
      const p = spawnProcess(inNs(side, argv));
      procs.set(p.pid, p);
      return p;
    },
    addClientAddresses: async (addresses) => {
      for (const a of addresses) await runChecked(['ip', '-n', ns.client, 'addr', 'add', `${a}/24`, 'dev', 'wptc-c']);
    },
    destroy: async () => {
      for (const p of procs.values()) await p.stop('SIGKILL', 2000);
      procs.clear();
      cleanupSync();
      process.removeListener('exit', cleanupSync);
    },
  };
  try {
    await runChecked(['ip', 'netns', 'add', ns.client]);
    await runChecked(['ip', 'netns', 'add', ns.server]);
    await runChecked(['ip', 'link', 'add', 'wptc-c', 'netns', ns.client, 'type', 'veth', 'peer', 'name', 'wptc-s', 'netns', ns.server]);
    for (const [side, dev, v4, v6] of [['client', 'wptc-c', CT_NET.client4, CT_NET.client6], ['server', 'wptc-s', CT_NET.server4, CT_NET.server6]] as const) {
      await runChecked(['ip', '-n', ns[side], 'addr', 'add', `${v4}/24`, 'dev', dev]);
      await runChecked(['ip', '-n', ns[side], '-6', 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad']);
      await runChecked(['ip', '-n', ns[side], 'link', 'set', dev, 'up']);
      await runChecked(['ip', '-n', ns[side], 'link', 'set', 'lo', 'up']);
    }
    await api.run('server', ['nft', '-f', '-'], NFT_TRACK);
  } catch (e) {
    await api.destroy();
    throw e;
  }
  return api;
}
