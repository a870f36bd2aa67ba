// Time-scaled copies of Prometheus rule files, so that an end-to-end test can run the real alert
// rules in seconds: every `for:` and every range-selector / subquery duration is multiplied by
// `factor` (e.g. 1/30: `[5m]` -> `[10s]`, `for: 2m` -> `for: 4s`), and nothing else changes.
// Plain numbers inside expressions (e.g. `1800 /`) are not durations and are left alone.

const UNIT_MS: Record<string, number> = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const PART = /(\d+)(ms|y|w|d|h|m|s)/g;
const DURATION = /^(?:\d+(?:ms|y|w|d|h|m|s))+$/;

/** Milliseconds of a Prometheus duration such as `5m`, `1h30m`, `250ms`. */
export function parsePromDuration(text: string): number {
  if (!DURATION.test(text)) throw new Error(`not a Prometheus duration: ${JSON.stringify(text)}`);
  let ms = 0;
  for (const [, n, unit] of text.matchAll(PART)) ms += Number(n) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  return ms;
}

/** The shortest Prometheus duration for a whole number of milliseconds (`90000` -> `1m30s`). */
export function formatPromDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`duration must be a whole number of ms >= 0, got ${ms}`);
  if (ms === 0) return '0s';
  let left = ms;
  let out = '';
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const n = Math.floor(left / size);
    if (n > 0) {
      out += `${n}${unit}`;
      left -= n * size;
    }
  }
  return out;
}

function scaleDuration(text: string, factor: number): string {
  const scaled = parsePromDuration(text) * factor;
  const ms = Math.round(scaled);
  if (Math.abs(scaled - ms) > 1e-6) throw new Error(`${text} × ${factor} is not a whole number of milliseconds`);
  return formatPromDuration(ms);
}

export interface ScaledRules {
  readonly text: string;
  /** Each replacement made, `old -> new`, in order. */
  readonly changes: string[];
}

/**
 * Scales the `for:` values and the `[range]` / `[range:step]` selectors of a rule file's text.
 * Throws on `offset` and `@` modifiers, which it does not handle.
 */
export function scaleRuleDurations(text: string, factor: number): ScaledRules {
  if (!(factor > 0)) throw new RangeError(`factor must be > 0, got ${factor}`);
  if (/\boffset\s+\d|@\s*\d/.test(text)) throw new Error('scaleRuleDurations: offset and @ modifiers are not supported');
  const changes: string[] = [];
  const note = (from: string, to: string): string => {
    changes.push(`${from} -> ${to}`);
    return to;
  };
  const withFor = text.replace(/^(\s*for:\s*)(\S+)[ \t]*$/gm, (_m, head: string, d: string) => `${head}${note(d, scaleDuration(d, factor))}`);
  const scaled = withFor.replace(/\[(\d+(?:ms|y|w|d|h|m|s)(?:\d+(?:ms|y|w|d|h|m|s))*)(?::(\d+(?:ms|y|w|d|h|m|s)(?:\d+(?:ms|y|w|d|h|m|s))*)?)?\]/g, (m, range: string, step: string | undefined) => {
    const to = `[${scaleDuration(range, factor)}${m.includes(':') ? `:${step === undefined ? '' : scaleDuration(step, factor)}` : ''}]`;
    return note(m, to);
  });
  return { text: scaled, changes };
}
