/** Checks the samples a kind returned against its declared metric families (pure). */
import type { MetricSpec, Sample } from './types.js';

export interface SampleCheck {
  readonly valid: Sample[];
  /** one description per rejected sample, for the log */
  readonly rejected: string[];
}

function problemOf(sample: Sample, spec: MetricSpec | undefined): string | null {
  if (spec === undefined) return 'undeclared metric';
  const keys = Object.keys(sample.labels).sort();
  const want = [...spec.labelNames].sort();
  if (keys.length !== want.length || keys.some((k, i) => k !== want[i])) {
    return `labels {${keys.join(',')}} instead of {${want.join(',')}}`;
  }
  if (typeof sample.value !== 'number') return 'value is not a number';
  if (spec.type === 'counter' && !(Number.isFinite(sample.value) && sample.value >= 0)) return 'counter value must be finite and >= 0';
  return null;
}

export function checkSamples(samples: readonly Sample[], specs: ReadonlyMap<string, MetricSpec>): SampleCheck {
  const valid: Sample[] = [];
  const rejected: string[] = [];
  for (const s of samples) {
    const problem = problemOf(s, specs.get(s.metric));
    if (problem === null) valid.push(s);
    else rejected.push(`${s.metric}: ${problem}`);
  }
  return { valid, rejected };
}
