/**
 * Config problems and the error that carries them. One problem is one line of the error
 * message: `<file>:<line>:<col>: <keypath>: <message>` (the keypath part is left out for
 * problems of the document itself).
 */
import { AppError, type ErrorCode } from '../lib/errors.js';

/** One key of a path from the document root: a mapping key or a list index. */
export type Segment = string | number;

export interface ConfigProblem {
  /** 1-based */
  readonly line: number;
  /** 1-based */
  readonly col: number;
  /** dot-separated key path, e.g. `targets.web1.nb_packets`, `global.percentile[1]` */
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends AppError {
  readonly file: string;
  /** sorted by position */
  readonly problems: readonly ConfigProblem[];

  constructor(code: ErrorCode, file: string, problems: readonly ConfigProblem[]) {
    const sorted = Object.freeze(sortProblems(problems));
    super(code, sorted.map((p) => formatProblem(file, p)).join('\n'));
    this.file = file;
    this.problems = sorted;
  }
}

const PLAIN_SEGMENT = /^[A-Za-z0-9_-]+$/;

/** `["targets", "a.b", "timeout"]` → `targets["a.b"].timeout`; numbers become `[n]`. */
export function formatKeyPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (!PLAIN_SEGMENT.test(s)) out += `[${JSON.stringify(s)}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

export function formatProblem(file: string, p: ConfigProblem): string {
  const where = `${file}:${p.line}:${p.col}`;
  return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
}

/** By position, then path and message so that the order never depends on discovery order. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort(
    (a, b) =>
      a.line - b.line ||
      a.col - b.col ||
      compareStrings(a.path, b.path) ||
      compareStrings(a.message, b.message),
  );
}

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
