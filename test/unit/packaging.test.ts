// Packaging: static facts of the Dockerfile (no Docker daemon here), the systemd unit checked by
// systemd-analyze, and the npm package: its file list against what the code reads at run time,
// and the packed tarball run with `version` and `check-config`.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { PACKAGED_MALLOC_ENV, PACKAGED_NODE_FLAGS, REPO_ROOT, requireTools, runCommand } from '../lab/index.js';

const read = (rel: string): string => readFileSync(join(REPO_ROOT, rel), 'utf8');

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Dockerfile instructions per stage (continuation lines joined, comments dropped). */
function dockerStages(text: string): Instruction[][] {
  const joined = text.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n').replace(/\\\n/g, ' ');
  const stages: Instruction[][] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (m === null) continue;
    const ins = { op: m[1]!, args: m[2]!.replace(/\s+/g, ' ').trim() };
    if (ins.op === 'FROM') stages.push([]);
    stages.at(-1)?.push(ins);
  }
  return stages;
}

const args = (stage: readonly Instruction[], op: string): string[] => stage.filter((i) => i.op === op).map((i) => i.args);

/** `[Section] Key=value` lines of a unit file, values of repeated keys in order. */
function unitKeys(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s !== null) section = s[1]!;
    else {
      const eq = line.indexOf('=');
      const key = `${section}.${line.slice(0, eq)}`;
      out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
    }
  }
  return out;
}

/** Files the compiled code reads relative to itself (`new URL('…', import.meta.url)`), as package paths. */
function runtimeReads(files: readonly string[]): string[] {
  const out: string[] = [];
  for (const file of files.filter((f) => f.startsWith('dist/src/') && f.endsWith('.js'))) {
    const text = read(file);
    const dir = posix.dirname(file);
    const bases = new Map<string, string>();
    for (const m of text.matchAll(/(\w+) = new URL\('([^']+)', import\.meta\.url\)/g)) bases.set(m[1]!, posix.join(dir, m[2]!));
    for (const m of text.matchAll(/new URL\('([^']+)', (\w+(?:\.\w+)*)\)/g)) {
      const base = m[2] === 'import.meta.url' ? dir : bases.get(m[2]!);
      if (base !== undefined && !m[1]!.endsWith('/')) out.push(posix.normalize(posix.join(base, m[1]!)));
    }
  }
  return out;
}

async function packedFiles(): Promise<string[]> {
  const r = await runCommand(['npm', 'pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const [pack] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  return pack!.files.map((f) => f.path);
}

void describe('Dockerfile', () => {
  const stages = dockerStages(read('Dockerfile'));
  const [build, runtime] = stages;

  void it('has a build stage with the node-gyp toolchain and a runtime stage on the same base without it', () => {
    assert.equal(stages.length, 2);
    assert.match(args(build!, 'FROM')[0]!, /^node:20-bookworm-slim AS build$/);
    assert.equal(args(runtime!, 'FROM')[0], 'node:20-bookworm-slim', 'same base: the addons built in the first stage match its ABI');
    const buildRun = args(build!, 'RUN').join(' ');
    for (const want of ['libpcap-dev', 'python3', 'make', 'g++', 'npm ci', 'tsc -p .', 'npm prune --omit=dev']) assert.ok(buildRun.includes(want), want);
    const run = args(runtime!, 'RUN').join(' ');
    for (const want of ['libpcap0.8', 'iproute2', 'conntrack', '--no-install-recommends', 'rm -rf /var/lib/apt/lists']) assert.ok(run.includes(want), want);
    for (const unwanted of ['libpcap-dev', 'g++', 'npm ci', 'npm install']) assert.ok(!run.includes(unwanted), unwanted);
    const copies = args(runtime!, 'COPY');
    assert.ok(copies.includes('--from=build /src/node_modules ./node_modules'));
    assert.ok(copies.includes('--from=build /src/dist/src ./dist/src'));
  });

  void it('runs as a non-root user holding only CAP_NET_RAW and CAP_NET_ADMIN, as documented', () => {
    const user = args(runtime!, 'USER').at(-1);
    assert.ok(user !== undefined, 'no USER in the runtime stage');
    assert.doesNotMatch(user, /^(root|0)(:|$)/);
    assert.match(args(runtime!, 'RUN').join(' '), /setcap cap_net_raw,cap_net_admin\+ep "\$\(readlink -f \/usr\/local\/bin\/node\)"/);
    const text = read('Dockerfile');
    assert.match(text, /--cap-drop=ALL --cap-add=NET_RAW --cap-add=NET_ADMIN/);
    assert.deepEqual([...new Set(text.match(/--cap-add=\w+/g))].sort(), ['--cap-add=NET_ADMIN', '--cap-add=NET_RAW']);
  });

  void it('has a curl-free healthcheck, the metrics port and the default config', () => {
    const health = args(runtime!, 'HEALTHCHECK');
    assert.equal(health.length, 1);
    assert.match(health[0]!, /CMD \["node", "-e", ".*fetch\('http:\/\/127\.0\.0\.1:9771\/-\/healthy'\)/);
    assert.doesNotMatch(health[0]!, /curl|wget/);
    const example = parse(read('examples/wireprobe.yaml')) as { global: { prometheus_port: number } };
    assert.deepEqual(args(runtime!, 'EXPOSE'), [String(example.global.prometheus_port)]);
    assert.deepEqual(args(runtime!, 'ENTRYPOINT'), ['["node", "--max-semi-space-size=1", "dist/src/main.js"]']);
    assert.deepEqual(args(runtime!, 'CMD'), ['["run", "--config", "/etc/wireprobe/wireprobe.yaml"]']);
    assert.ok(args(runtime!, 'COPY').includes('examples/wireprobe.yaml /etc/wireprobe/wireprobe.yaml'));
  });

  void it('copies files that exist, and everything the code reads at run time', async () => {
    const copies = stages.flat().filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'));
    for (const c of copies) for (const src of c.args.split(' ').slice(0, -1)) assert.ok(existsSync(join(REPO_ROOT, src)), `COPY ${src}: missing`);
    const copied = args(runtime!, 'COPY').flatMap((a) => a.split(' ').slice(0, -1));
    for (const f of runtimeReads(await packedFiles())) {
      // a COPY --from=build names the build stage's path, under its WORKDIR /src
      assert.ok(copied.map((c) => c.replace(/^\/src\//, '')).some((c) => f === c || f.startsWith(`${c}/`)), `${f} is not in the image`);
    }
  });
});

void describe('runtime settings of the packages (test/lab/packaged-runtime.ts, which the benchmarks use)', () => {
  const malloc = Object.entries(PACKAGED_MALLOC_ENV).map(([k, v]) => `${k}=${v}`);
  const flags = PACKAGED_NODE_FLAGS.join(' ');

  void it('the systemd unit sets them', () => {
    const env = unitKeys(read('packaging/wireprobe.service')).get('Service.Environment') ?? [];
    assert.deepEqual(env, [`NODE_OPTIONS=${flags}`, malloc.join(' ')]);
  });

  void it('the container image sets them', () => {
    const runtime = dockerStages(read('Dockerfile')).at(-1)!;
    assert.ok(args(runtime, 'ENV').includes(malloc.join(' ')), args(runtime, 'ENV').join('; '));
    assert.ok(runtime.some((i) => i.op === 'ENTRYPOINT' && i.args.startsWith(`["node", ${PACKAGED_NODE_FLAGS.map((f) => JSON.stringify(f)).join(', ')}, `)));
  });

  void it('make run sets them', () => {
    const run = /^run:.*\n((?:\t.*\n)+)/m.exec(read('Makefile'))?.[1] ?? '';
    assert.ok(run.includes(`${malloc.join(' ')} $(NODE) ${flags} dist/src/main.js run`), run);
  });
});

void describe('systemd unit', () => {
  const unit = 'packaging/wireprobe.service';

  void it('grants only CAP_NET_RAW and CAP_NET_ADMIN to a dynamic user, with hardening', () => {
    const k = unitKeys(read(unit));
    const expect: Record<string, string> = {
      'Service.AmbientCapabilities': 'CAP_NET_RAW CAP_NET_ADMIN',
      'Service.CapabilityBoundingSet': 'CAP_NET_RAW CAP_NET_ADMIN',
      'Service.DynamicUser': 'yes',
      'Service.NoNewPrivileges': 'yes',
      'Service.ProtectSystem': 'strict',
      'Service.ProtectHome': 'yes',
      'Service.PrivateTmp': 'yes',
      'Service.ProtectKernelTunables': 'yes',
      'Service.ProtectKernelModules': 'yes',
      'Service.RestrictAddressFamilies': 'AF_INET AF_INET6 AF_PACKET AF_NETLINK AF_UNIX',
      'Service.StateDirectory': 'wireprobe',
      'Service.ExecReload': '/bin/kill -HUP $MAINPID',
      'Service.Restart': 'on-failure',
      'Service.RestartPreventExitStatus': '64 65 77',
      'Install.WantedBy': 'multi-user.target',
    };
    for (const [key, value] of Object.entries(expect)) assert.deepEqual(k.get(key), [value], key);
    assert.match(k.get('Service.ExecStart')?.[0] ?? '', /\/wireprobe run --config \/etc\/wireprobe\/wireprobe\.yaml$/);
    assert.match(k.get('Service.LimitNOFILE')?.[0] ?? '', /^\d+$/);
    assert.equal(k.has('Service.User'), false, 'DynamicUser, no fixed user');
  });

  void it('passes systemd-analyze verify and has a low exposure score', async (t) => {
    requireTools([{ bin: 'systemd-analyze', pkg: 'systemd' }]);
    const dir = mkdtempSync(join(tmpdir(), 'wpt-unit-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // verify needs an existing ExecStart binary: the same unit, started from this checkout
    const local = read(unit).replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath} ${join(REPO_ROOT, 'dist/src/main.js')}`);
    const file = join(dir, 'wireprobe.service');
    writeFileSync(file, local);
    const verify = await runCommand(['systemd-analyze', 'verify', file], { timeoutMs: 30_000 });
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), '', 'systemd-analyze verify warnings');
    const security = await runCommand(['systemd-analyze', 'security', '--offline=yes', '--no-pager', file], { timeoutMs: 30_000 });
    const score = /Overall exposure level for wireprobe\.service: ([\d.]+)/.exec(security.stdout + security.stderr);
    assert.ok(score !== null, security.stdout + security.stderr);
    assert.ok(Number(score[1]) <= 3, `exposure ${score[1]} (want ≤ 3)`);
  });
});

void describe('npm package', () => {
  void it('has a wireprobe bin with a node shebang', () => {
    const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };
    assert.deepEqual(pkg.bin, { wireprobe: 'dist/src/main.js' });
    assert.equal(read('dist/src/main.js').split('\n')[0], '#!/usr/bin/env node');
  });

  void it('packs the code, schemas, examples and docs, and no tests or sources', async () => {
    const files = await packedFiles();
    for (const want of ['package.json', 'README.md', 'dist/src/main.js', 'dist/src/workers/tasks.js', 'schema/config.schema.json', 'examples/wireprobe.yaml', 'docs/metrics.md', 'docs/config.md', 'packaging/wireprobe.service']) {
      assert.ok(files.includes(want), `${want} missing from the package`);
    }
    for (const f of files) assert.doesNotMatch(f, /^(test|bench|scripts|src|dist\/(test|bench|scripts))\/|\.(ts|map)$/, `${f} should not be packed`);
    const reads = runtimeReads(files);
    assert.ok(reads.includes('schema/config.schema.json') && reads.includes('package.json'), reads.join(', '));
    for (const f of reads) {
      // an addon of ours is built at install time (the package's install script) from its packed sources
      const addon = /^(native\/[^/]+)\/build\//.exec(f);
      if (addon === null) assert.ok(files.includes(f), `the code reads ${f} at run time but it is not packed`);
      else assert.ok(files.includes(`${addon[1]}/binding.gyp`), `${f} is built at install from ${addon[1]}, which is not packed`);
    }
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    assert.match(scripts['install'] ?? '', /build:native/);
  });

  void it('runs from the packed tarball', async (t) => {
    requireTools([{ bin: 'tar', pkg: 'tar' }]);
    const dir = mkdtempSync(join(tmpdir(), 'wpt-unit-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pack = await runCommand(['npm', 'pack', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO_ROOT, timeoutMs: 60_000 });
    assert.equal(pack.code, 0, pack.stderr);
    const tgz = join(dir, pack.stdout.trim().split('\n').at(-1)!);
    assert.equal((await runCommand(['tar', '-xzf', tgz, '-C', dir])).code, 0);
    // the native addons are not rebuilt here: the package uses this checkout's node_modules
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'package', 'node_modules'));
    const { version } = JSON.parse(read('package.json')) as { version: string };
    const main = join(dir, 'package', 'dist', 'src', 'main.js');
    const v = await runCommand([process.execPath, main, 'version'], { cwd: dir });
    assert.deepEqual([v.code, v.stdout.trim()], [0, `wireprobe ${version}`], v.stderr);
    const check = await runCommand([process.execPath, main, 'check-config', join(dir, 'package', 'examples', 'wireprobe.yaml')], { cwd: dir });
    assert.equal(check.code, 0, check.stderr);
  });
});
