// A throwaway PostgreSQL server for the flow sink tests: initdb in a temp dir as the `postgres`
// user (initdb and postgres refuse root), listening on 127.0.0.1 on a free port, password auth,
// stopped by its PID (fast shutdown, then SIGKILL) and its directory removed.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runCommand } from './processes.js';
import { requireRoot, requireTools } from './require-tools.js';
import { sleep } from './wait-for.js';

export interface PostgresHandle {
  /** postgres://wireprobe:PASSWORD@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly password: string;
  readonly port: number;
  /** stops the server (fast shutdown), keeps the data */
  stop(): Promise<void>;
  /** starts it again on the same data and port */
  restart(): Promise<void>;
  /** stops it and removes its directory */
  destroy(): Promise<void>;
}

/** The bin directory of the newest installed PostgreSQL, or throws the missing-prerequisite message. */
export function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.length > 0 ? join(base, versions[0]!, 'bin') : join(base, 'VERSION', 'bin');
  requireTools([
    { bin: join(bin, 'initdb'), pkg: 'postgresql' },
    { bin: join(bin, 'postgres'), pkg: 'postgresql' },
    { bin: 'setpriv', pkg: 'util-linux' },
  ]);
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PostgresHandle> {
  requireRoot();
  const bin = postgresBin();
  const entry = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (entry === undefined) throw new Error('missing prerequisite: the postgres user (apt-get install postgresql)');
  const [, , uidText, gidText] = entry.split(':');
  const uid = Number(uidText);
  const gid = Number(gidText);
  const dir = mkdtempSync(join(tmpdir(), 'wpt-pg-'));
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  chownSync(pwfile, uid, gid);
  const asPostgres = ['--reuid=postgres', '--regid=postgres', '--init-groups'];
  const init = await runCommand(['setpriv', ...asPostgres, join(bin, 'initdb'), '-D', data, '-U', 'wireprobe', '--pwfile', pwfile, '-A', 'scram-sha-256', '--no-sync', '-E', 'UTF8'], {
    timeoutMs: 120_000,
  });
  if (init.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.code}): ${init.stderr}`);
  }
  const port = await freePort();
  const url = `postgres://wireprobe:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | null = null;
  let log = '';

  const start = async (): Promise<void> => {
    log = '';
    const c = spawn('setpriv', [...asPostgres, join(bin, 'postgres'), '-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir, '-c', 'fsync=off', '-c', 'full_page_writes=off'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    c.stdout?.on('data', (b: Buffer) => (log += b.toString()));
    c.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`postgres exited (${c.exitCode}): ${log}`);
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.end();
        return;
      } catch (e) {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 30 s: ${String(e)}\n${log}`);
        await sleep(200);
      }
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = null;
    if (c === null || c.exitCode !== null || c.pid === undefined) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    process.kill(c.pid, 'SIGINT'); // fast shutdown
    const killer = setTimeout(() => {
      if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await start();
  } catch (e) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url,
    password,
    port,
    stop,
    restart: start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
