/**
 * How far V8 lets the old generation grow past its live size before the next full collection.
 * By default up to 4× on a machine with gigabytes of memory; a prober's garbage is mostly rounds
 * that lived one interval, so that headroom is resident memory that buys nothing. Capped at
 * 25 %: 10 000 ICMP targets at 1 probe / 10 s ran at 119-123 instead of 129-132 MB, at 1 probe / s
 * at 141-143 instead of 156-174 MB, CPU within the noise (bench/README.md, "Heap growth").
 */
export const HEAP_GROWING_PERCENT = 25;

const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/**
 * Caps the heap growth unless node's command line sets it (that wins). V8 reads the flag at each
 * full collection, so it takes effect when set at run time, for the main thread and the worker
 * threads; NODE_OPTIONS may not carry it. Returns whether it set the flag.
 */
export function limitHeapGrowth(execArgv: readonly string[], setFlags: (flags: string) => void): boolean {
  if (execArgv.some((a) => FLAG.test(a))) return false;
  setFlags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
