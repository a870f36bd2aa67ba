/** Wording helpers for the messages of schema problems. */

/** A value as quoted in messages: strings in double quotes, numbers and booleans bare. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return value instanceof Date ? 'a timestamp' : 'a mapping';
}

/** Enum members as listed in messages: bare when all are plain words, else all quoted. */
export function describeChoices(values: readonly unknown[]): string {
  const plain = values.every((v) => typeof v !== 'string' || /^[\w.-]+$/.test(v));
  return values.map((v) => (plain && typeof v === 'string' ? v : describeValue(v))).join(', ');
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

/** `integer` → `an integer`; ajv's `string,integer` (a type list) → `a string or an integer`. */
export function describeType(type: string): string {
  return type
    .split(',')
    .map((t) => TYPE_NAMES[t] ?? t)
    .join(' or ');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The closest known key within two edits (and less than half the key), if any. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.ceil(key.length / 2) - 1);
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate);
    if (d <= bestDistance && (best === undefined || d < bestDistance)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
