// A small parser for the Prometheus text exposition format (version 0.0.4), for assertions.

export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
  readonly timestampMs?: number;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/**
 * Sample values as Prometheus reads them (Go strconv.ParseFloat): decimal/exponent floats, and
 * NaN / Inf / Infinity with an optional sign, case-insensitive (prom-client writes "Nan").
 */
export function parseValue(text: string): number {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special !== null) {
    if ((special[2] as string).toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`invalid sample value ${JSON.stringify(text)}`);
  return Number(text);
}

function parseLine(line: string, lineNo: number): Sample {
  const fail = (why: string): never => {
    throw new Error(`exposition line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
  };
  const nameMatch = NAME_RE.exec(line);
  if (nameMatch === null) return fail('expected a metric name');
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const ln = LABEL_NAME_RE.exec(line.slice(i));
      if (ln === null) return fail('expected a label name');
      const labelName = ln[0];
      i += labelName.length;
      while (line[i] === ' ') i++;
      if (line[i] !== '=') return fail('expected "="');
      i++;
      while (line[i] === ' ') i++;
      if (line[i] !== '"') return fail('expected a quoted label value');
      i++;
      let value = '';
      for (;;) {
        const ch = line[i];
        if (ch === undefined) return fail('unterminated label value');
        if (ch === '"') {
          i++;
          break;
        }
        if (ch === '\\') {
          const esc = line[i + 1];
          if (esc === 'n') value += '\n';
          else if (esc === '\\') value += '\\';
          else if (esc === '"') value += '"';
          else return fail(`invalid escape \\${esc ?? ''}`);
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      if (Object.hasOwn(labels, labelName)) return fail(`duplicate label ${labelName}`);
      labels[labelName] = value;
      while (line[i] === ' ') i++;
      if (line[i] === ',') {
        i++;
        continue;
      }
      if (line[i] === '}') {
        i++;
        break;
      }
      return fail('expected "," or "}"');
    }
  }
  const rest = line.slice(i).trim().split(/[ \t]+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === '') return fail('expected "value [timestamp]"');
  const value = parseValue(rest[0] as string);
  if (rest.length === 2) {
    const ts = Number(rest[1]);
    if (!Number.isInteger(ts)) return fail('invalid timestamp');
    return { name, labels, value, timestampMs: ts };
  }
  return { name, labels, value };
}

/** Parses exposition text into samples; `# HELP`, `# TYPE` and other comments are skipped. Throws on malformed lines. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    samples.push(parseLine(line, n + 1));
  }
  return samples;
}

/** Parses the `# TYPE` lines: metric family name -> type. */
export function parseTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)\s*$/.exec(line);
    if (m !== null) types.set(m[1] as string, m[2] as string);
  }
  return types;
}

function matches(s: Sample, name: string, labels: Readonly<Record<string, string>>): boolean {
  if (s.name !== name) return false;
  for (const [k, v] of Object.entries(labels)) if (s.labels[k] !== v) return false;
  return true;
}

/** All samples named `name` whose labels include `labels` (a subset match). */
export function findAll(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
  return samples.filter((s) => matches(s, name, labels));
}

/** The single sample named `name` whose labels include `labels`; undefined if none; throws if several match. */
export function find(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): Sample | undefined {
  const all = findAll(samples, name, labels);
  if (all.length > 1) {
    throw new Error(`find(${name}, ${JSON.stringify(labels)}): ${all.length} samples match; add labels`);
  }
  return all[0];
}

/** Sum of the values of all samples named `name` whose labels include `labelFilter`. */
export function sum(samples: readonly Sample[], name: string, labelFilter: Readonly<Record<string, string>> = {}): number {
  return findAll(samples, name, labelFilter).reduce((acc, s) => acc + s.value, 0);
}
