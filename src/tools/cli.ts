/**
 * The one-shot tool commands: `wireprobe ipcalc PREFIX… [--contains X] [--split LEN]`,
 * `wireprobe oui MAC`, `wireprobe whois|rdap QUERY [--config FILE]`, each with `--json`.
 * Returns the text to print and the exit code; main.ts writes and exits.
 */
import { loadConfigFile } from '../config/load.js';
import { toolsDefaults } from '../config/tools-defaults.js';
import type { ToolsConfig } from '../config/types.js';
import { AppError, ErrorCodes, errorMessage, type ErrorCode } from '../lib/errors.js';
import { contains, describePrefix, split, summarise, type PrefixInfo } from './ipcalc.js';
import { createOuiLookup, type OuiResult } from './oui.js';
import { rdapOptions, whoisOptions } from './options.js';
import { classifyQuery } from './query.js';
import { createRdapClient } from './rdap.js';
import { whois } from './whois.js';

export const TOOL_COMMANDS = ['ipcalc', 'oui', 'whois', 'rdap'] as const;
export type ToolCommand = (typeof TOOL_COMMANDS)[number];

export const TOOL_USAGE = [
  '       wireprobe ipcalc PREFIX [PREFIX…] [--contains ADDRESS|PREFIX] [--split LENGTH] [--json]',
  '       wireprobe oui MAC [--json]',
  '       wireprobe whois|rdap QUERY [--config FILE] [--json]',
];

export interface ToolOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const EX_USAGE = 64;
const EX_DATAERR = 65;
const EX_UNAVAILABLE = 69;

interface Parsed {
  readonly positional: string[];
  readonly options: Map<string, string>;
  readonly json: boolean;
}

function parseArgs(args: readonly string[], valued: readonly string[]): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string>();
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') json = true;
    else if (valued.includes(a)) {
      const v = args[++i];
      if (v === undefined) throw new AppError(ErrorCodes.TOOL_ERR_INPUT, `${a} needs a value`);
      options.set(a, v);
    } else if (a.startsWith('--')) throw new AppError(ErrorCodes.TOOL_ERR_INPUT, `unknown option ${a}`);
    else positional.push(a);
  }
  return { positional, options, json };
}

function prefixText(p: PrefixInfo): string {
  const rows: [string, string | null][] = [
    ['Address', p.address], ['Network', p.cidr], ['Netmask', p.netmask], ['Wildcard', p.wildcard], ['Broadcast', p.broadcast],
    ['First usable', p.first_usable], ['Last usable', p.last_usable], ['Addresses', p.addresses], ['Usable', p.usable],
    ['IPv4-mapped', p.ipv4_mapped], ['Note', p.note],
  ];
  return rows.filter(([, v]) => v !== null).map(([k, v]) => `${`${k}:`.padEnd(14)}${v!}`).join('\n');
}

function ouiText(r: OuiResult): string {
  const vendor = r.organization === null ? 'no IEEE registration' : `${r.organization}${r.country === null ? '' : ` (${r.country})`}`;
  const flags = [r.locally_administered ? 'locally administered' : '', r.multicast ? 'group (multicast) address' : ''].filter((x) => x !== '');
  return `${r.mac}  ${vendor}${r.block === null ? '' : `  [${r.block} ${r.prefix!}/${r.prefix_bits!}]`}${flags.length > 0 ? `  ${flags.join(', ')}` : ''}`;
}

async function settings(p: Parsed): Promise<ToolsConfig> {
  const file = p.options.get('--config');
  if (file === undefined) return toolsDefaults();
  return (await loadConfigFile(file)).config.tools ?? toolsDefaults();
}

async function execute(cmd: ToolCommand, args: readonly string[]): Promise<{ json: boolean; value: unknown; text: () => string }> {
  switch (cmd) {
    case 'ipcalc': {
      const p = parseArgs(args, ['--contains', '--split']);
      const limits = toolsDefaults().ipcalc;
      if (p.positional.length === 0) throw new AppError(ErrorCodes.TOOL_ERR_INPUT, 'ipcalc needs a PREFIX');
      if (p.positional.length > 1) {
        const summary = summarise(p.positional, limits.max_prefixes);
        return { json: p.json, value: { summary }, text: () => summary.join('\n') };
      }
      const info = describePrefix(p.positional[0]!);
      const inner = p.options.get('--contains');
      const len = p.options.get('--split');
      if (len !== undefined && !/^[0-9]{1,3}$/.test(len)) throw new AppError(ErrorCodes.TOOL_ERR_INPUT, '--split needs a prefix length');
      const within = inner === undefined ? undefined : { query: inner, result: contains(p.positional[0]!, inner) };
      const subnets = len === undefined ? undefined : split(p.positional[0]!, Number(len), limits.max_subnets);
      const value = { prefix: info, ...(within ? { contains: within } : {}), ...(subnets ? { split: { prefix_length: Number(len), subnets } } : {}) };
      const text = (): string =>
        [prefixText(info), within ? `Contains ${within.query}: ${within.result ? 'yes' : 'no'}` : '', subnets ? subnets.join('\n') : ''].filter((x) => x !== '').join('\n');
      return { json: p.json, value, text };
    }
    case 'oui': {
      const p = parseArgs(args, []);
      if (p.positional.length !== 1) throw new AppError(ErrorCodes.TOOL_ERR_INPUT, 'oui needs one MAC address');
      const r = await createOuiLookup().lookup(p.positional[0]!);
      return { json: p.json, value: r, text: () => ouiText(r) };
    }
    case 'whois': {
      const p = parseArgs(args, ['--config']);
      if (p.positional.length !== 1) throw new AppError(ErrorCodes.TOOL_ERR_INPUT, 'whois needs one QUERY');
      const r = await whois(classifyQuery(p.positional[0]!), whoisOptions(await settings(p)));
      return { json: p.json, value: r, text: () => r.answers.map((a) => `% ${a.server}:${a.port}\n${a.text.trimEnd()}`).join('\n\n') };
    }
    case 'rdap': {
      const p = parseArgs(args, ['--config']);
      if (p.positional.length !== 1) throw new AppError(ErrorCodes.TOOL_ERR_INPUT, 'rdap needs one QUERY');
      const r = await createRdapClient(() => Date.now()).query(classifyQuery(p.positional[0]!), rdapOptions(await settings(p)));
      return { json: true, value: r, text: () => '' };
    }
  }
}

const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  TOOL_ERR_INPUT: EX_USAGE,
  TOOL_ERR_LIMIT: EX_DATAERR,
  CFG_ERR_INVALID: EX_DATAERR,
  CFG_ERR_READ: EX_DATAERR,
  CFG_ERR_YAML: EX_DATAERR,
  TOOL_ERR_UNREACHABLE: EX_UNAVAILABLE,
  TOOL_ERR_TIMEOUT: EX_UNAVAILABLE,
  TOOL_ERR_UPSTREAM: EX_UNAVAILABLE,
  TOOL_ERR_TOO_LARGE: EX_UNAVAILABLE,
};

const exitCodeOf = (e: unknown): number => (e instanceof AppError ? (EXIT_CODES[e.code] ?? 1) : 1);

/** Runs a tool command: 0 done, 64 bad input, 65 over a bound or bad config, 69 a server unreachable or unusable, 1 otherwise. */
export async function runToolCommand(cmd: ToolCommand, args: readonly string[]): Promise<ToolOutput> {
  try {
    const r = await execute(cmd, args);
    return { code: 0, stdout: `${r.json ? JSON.stringify(r.value, null, 2) : r.text()}\n`, stderr: '' };
  } catch (e) {
    const code = e instanceof AppError ? ` (${e.code})` : '';
    return { code: exitCodeOf(e), stdout: '', stderr: `wireprobe ${cmd}: ${errorMessage(e)}${code}\n` };
  }
}
