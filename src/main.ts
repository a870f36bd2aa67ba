#!/usr/bin/env node
/**
 * The composition root and the only file with process-level side effects: argv, signals,
 * stderr, exit codes.
 *
 *   wireprobe run [--config FILE]     probe and serve metrics (the default command)
 *   wireprobe check-config FILE       validate a config file: exit 0, or a precise error and 65
 *   wireprobe flows top …             top talkers from a flow database or a running wireprobe's API
 *   wireprobe version
 *   wireprobe ping|traceroute|mtr DEST [options]   one on-demand operation through the engine
 *   wireprobe ipcalc|oui|whois|rdap …   the operator tools, one shot (tools/cli.ts)
 * netprobify's form `wireprobe FILE` is accepted too.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import type { HopAnnotator } from './operations/annotate.js';
import type { OperationKind } from './operations/types.js';
import { isAppError, ErrorCodes, errorMessage } from './lib/errors.js';
import { threadHeap } from './lib/heap-compaction.js';
import { loadMallocTrim } from './lib/malloc-trim.js';
import { limitHeapGrowth } from './lib/heap-growth.js';
import { createLogger, levelFromNetprobify, type Logger } from './lib/logger.js';
import type { EngineHostDeps } from './net/types.js';

// Each command imports what it uses when it runs (`import()`): `run` never loads the CLI tools,
// fleet or flow readers, and the one-shot commands never load the probing engine's app.

const EX_USAGE = 64;
const EX_DATAERR = 65;
const EX_NOPERM = 77;
const SHUTDOWN_DRAIN_MS = 2000;
const SHUTDOWN_HARD_MS = 8000;
/** the one-shot operations: in-flight probes get this long to settle after the result */
const OPERATION_DRAIN_MS = 1000;

/** reverse DNS and Team Cymru AS numbers of hops (each lookup bounded by the runner) */
async function annotator(): Promise<HopAnnotator> {
  const [{ systemReverse, systemTxt }, { cymruAsn }] = await Promise.all([import('./dns/resolver.js'), import('./operations/annotate.js')]);
  return { name: systemReverse, asn: cymruAsn(systemTxt) };
}

const root = new URL('../../', import.meta.url);

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
  return pkg.version;
}

async function usage(): Promise<string> {
  const [{ operationUsage }, { TOOL_USAGE }, { FLEET_USAGE }] = await Promise.all([
    import('./operations/cli.js'), import('./tools/cli.js'), import('./fleet/cli.js'),
  ]);
  return [
    'usage: wireprobe run [--config FILE] [--watch-config]',
    '       wireprobe check-config FILE',
    '       wireprobe flows top --since 15m --by src [--limit N] [--filter KEY=VALUE]... [--json] (--db PATH | --url http://HOST:PORT)',
    '       wireprobe version',
    operationUsage(),
    ...TOOL_USAGE,
    FLEET_USAGE.replace(/^usage: /, '       '),
  ].join('\n');
}

function fail(message: string, code: number): never {
  process.stderr.write(`wireprobe: ${message}\n`);
  process.exit(code);
}

function defaultConfigPath(): string {
  if (existsSync('config.yaml')) return 'config.yaml';
  return fileURLToPath(new URL('examples/wireprobe.yaml', root));
}

async function checkConfig(file: string | undefined): Promise<void> {
  if (!file) fail(`check-config needs a FILE\n${await usage()}`, EX_USAGE);
  const { loadConfigFile } = await import('./config/load.js');
  const { config, warnings } = await loadConfigFile(file);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const nTargets = Object.keys(config.targets).length;
  const nGroups = Object.keys(config.groups).length;
  const nChecks = Object.values(config.checks).reduce((n, list) => n + list.length, 0);
  const extras = [
    nChecks > 0 ? `${nChecks} host checks` : '',
    config.inventories.length > 0 ? `${config.inventories.length} inventories` : '',
    config.api?.enabled === true ? 'API enabled' : '',
  ].filter((x) => x !== '');
  process.stdout.write(`${file}: OK (${[`${nTargets} targets`, `${nGroups} groups`, ...extras].join(', ')})\n`);
}

/** the real clock, raw sockets, pcap captures and routes, for `run` and the one-shot commands */
async function systemEngineHost(log: Logger): Promise<EngineHostDeps> {
  const [{ systemClock }, { createCaptureFactory, defaultCaptureOptions }, { randomIdBase }, { createRawSender }, { createRouteResolver }] = await Promise.all([
    import('./lib/clock.js'), import('./net/capture.js'), import('./net/engine.js'), import('./net/raw-transport.js'), import('./net/route.js'),
  ]);
  return {
    clock: systemClock,
    log,
    routes: createRouteResolver(),
    sender: createRawSender,
    captures: createCaptureFactory(defaultCaptureOptions),
    idBase: randomIdBase(),
    seqBase: randomBytes(4).readUInt32BE(0),
    captureDelayMs: defaultCaptureOptions.bufferTimeoutMs,
  };
}

async function run({ file, watchConfig }: RunArgs): Promise<void> {
  limitHeapGrowth(process.execArgv, setFlagsFromString);
  const { createConfigLoader } = await import('./workers/config-loader.js');
  const configLoader = createConfigLoader();
  // the start-up load's thread ends as soon as it has answered: its heap (~50 MB at 10 000 targets)
  // is gone before this thread takes in the result and builds the targets (kept alive until then,
  // VmHWM went from ~150 to ~190-210 MB)
  const { config, warnings } = await configLoader.load(file, true);
  const log = createLogger((line) => process.stderr.write(`${line}\n`), levelFromNetprobify(config.global.logging_level));
  for (const w of warnings) log.warn(w);
  const [{ checkRawPermission }, { createApp }, { systemLookup }, { createHostPacketIo }, { execCommand, streamCommand }] = await Promise.all([
    import('./net/raw-transport.js'), import('./app.js'), import('./dns/resolver.js'), import('./net/host-io.js'), import('./lib/exec.js'),
  ]);
  checkRawPermission();
  const malloc = loadMallocTrim();
  if (malloc.trim === null) log.info('freed malloc memory is not given back after heap compactions', { reason: malloc.reason });
  const app = await createApp(config, {
    ...(await systemEngineHost(log)),
    version: version(),
    lookup: systemLookup,
    configPath: file,
    loadConfig: (path) => configLoader.load(path),
    watchConfig,
    hostIo: () => createHostPacketIo(log.child('host-io')),
    exec: execCommand,
    stream: streamCommand,
    paths: { procfs: '/proc', sysfs: '/sys' },
    annotator: await annotator(),
    heap: threadHeap,
    ...(malloc.trim === null ? {} : { mallocTrim: malloc.trim }),
  });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    // a closed pcap session keeps the event loop alive: always exit explicitly, bounded
    setTimeout(() => process.exit(0), SHUTDOWN_HARD_MS).unref();
    app
      .stop(SHUTDOWN_DRAIN_MS)
      .catch((e: unknown) => log.error('error while stopping', { err: errorMessage(e) }))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    app.reload('signal').catch((e: unknown) => log.error('reload failed', { err: errorMessage(e) }));
  });
  await app.start();
}

/** `wireprobe fleet ...`: `--config FILE` taken out, the rest to the fleet CLI. */
async function fleet(args: string[]): Promise<void> {
  const rest: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--config' || a === '-c') file = args[++i];
    else if (a.startsWith('--config=')) file = a.slice('--config='.length);
    else rest.push(a);
  }
  const [{ loadConfigFile }, { fleetCommand }, { systemClock }] = await Promise.all([import('./config/load.js'), import('./fleet/cli.js'), import('./lib/clock.js')]);
  const { config } = await loadConfigFile(file ?? defaultConfigPath());
  try {
    const code = await fleetCommand(config, rest, { clock: systemClock, out: (text) => process.stdout.write(text) });
    process.exit(code);
  } catch (e) {
    if (isAppError(e, ErrorCodes.FLEET_ERR_REQUEST) || isAppError(e, ErrorCodes.FLEET_ERR_SELECTOR)) fail(errorMessage(e), EX_USAGE);
    throw e;
  }
}

/**
 * `wireprobe ping|traceroute|mtr DEST`: one operation through the engine built like `run`'s
 * (no targets, no HTTP), results printed as they come. Exit 0 when the destination answered,
 * 1 when not, 64 on a usage error, 77 without the privileges. SIGINT/SIGTERM end it early with
 * what was gathered. A closed pcap keeps Node alive: the exit is explicit, after a bounded drain.
 */
async function operate(kind: OperationKind, args: string[]): Promise<void> {
  const { createPrinter, parseOperationArgs, UsageError } = await import('./operations/cli.js');
  let parsed;
  try {
    parsed = parseOperationArgs(kind, args);
  } catch (e) {
    if (e instanceof UsageError) fail(`${e.message}\n${await usage()}`, EX_USAGE);
    throw e;
  }
  const { spec, json } = parsed;
  const log = createLogger((line) => process.stderr.write(`${line}\n`), 'warn');
  const [{ checkRawPermission }, { createStandaloneRunner }, { systemLookup }] = await Promise.all([
    import('./net/raw-transport.js'), import('./operations/standalone.js'), import('./dns/resolver.js'),
  ]);
  checkRawPermission();
  const standalone = await createStandaloneRunner({
    ...(await systemEngineHost(log)),
    lookup: systemLookup,
    annotator: await annotator(),
  });
  const abort = new AbortController();
  process.on('SIGINT', () => abort.abort());
  process.on('SIGTERM', () => abort.abort());
  const print = createPrinter(kind, json, (line) => process.stdout.write(`${line}\n`), spec.destination);
  let code = 1;
  try {
    const result = await standalone.runner.run(spec, print, abort.signal);
    code = result.reached ? 0 : 1;
  } catch (e) {
    if (json) print({ type: 'error', code: isAppError(e) ? e.code : 'ERROR', message: errorMessage(e) });
    process.stderr.write(`wireprobe: ${errorMessage(e)}\n`);
    code = isAppError(e, ErrorCodes.OPS_ERR_SPEC) ? EX_USAGE : 1;
  }
  setTimeout(() => process.exit(code), SHUTDOWN_HARD_MS).unref();
  await standalone.close(OPERATION_DRAIN_MS).catch(() => undefined);
  process.exit(code);
}

interface RunArgs {
  readonly file: string;
  readonly watchConfig: boolean;
}

async function parseRunArgs(args: string[]): Promise<RunArgs> {
  let file: string | undefined;
  let watchConfig = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--watch-config') watchConfig = true;
    else if (a === '--config' || a === '-c') file = args[++i];
    else if (a.startsWith('--config=')) file = a.slice('--config='.length);
    else if (!a.startsWith('-') && file === undefined) file = a;
    else fail(`unknown argument ${a}\n${await usage()}`, EX_USAGE);
  }
  if (file === undefined && args.some((a) => a === '--config' || a === '-c')) fail(`--config needs a FILE`, EX_USAGE);
  return { file: file ?? defaultConfigPath(), watchConfig };
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'version':
    case '--version':
      process.stdout.write(`wireprobe ${version()}\n`);
      return;
    case 'check-config':
      return checkConfig(rest[0]);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${await usage()}\n`);
      return;
    case 'run':
      return run(await parseRunArgs(rest));
    case 'ping':
    case 'traceroute':
    case 'mtr':
      return operate(cmd, rest);
    case 'flows': {
      const { flowsCli } = await import('./flows/cli.js');
      const code = await flowsCli(rest, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
        env: process.env,
        wallMs: () => Date.now(),
        fetch,
      });
      process.exitCode = code;
      return;
    }
    case 'ipcalc':
    case 'oui':
    case 'whois':
    case 'rdap': {
      const { runToolCommand } = await import('./tools/cli.js');
      const out = await runToolCommand(cmd, rest);
      process.stdout.write(out.stdout);
      process.stderr.write(out.stderr);
      return process.exit(out.code);
    }
    case 'fleet':
      return fleet(rest);
    case undefined:
    default:
      return run(await parseRunArgs(argv));
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (isAppError(e, ErrorCodes.CFG_ERR_INVALID) || isAppError(e, ErrorCodes.CFG_ERR_YAML) || isAppError(e, ErrorCodes.CFG_ERR_READ)) {
    fail(e.message, EX_DATAERR);
  }
  // a service that failed to start names itself; the exit code is that of the cause
  const cause = isAppError(e, ErrorCodes.SVC_ERR_START) ? e.cause : e;
  if (isAppError(cause, ErrorCodes.NET_ERR_PERMISSION)) fail(errorMessage(e), EX_NOPERM);
  fail(errorMessage(e), 1);
});
