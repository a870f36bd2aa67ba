/**
 * How the packages start wireprobe (packaging/wireprobe.service, Dockerfile, `make run`), so that
 * benchmarks measure the process as shipped; test/unit/packaging.test.ts checks that every
 * package carries these.
 *
 * - `--max-semi-space-size=1`: V8's young generation at 1 MB semi-spaces instead of 16.
 * - glibc malloc: at most 2 arenas (each thread that allocates otherwise gets one of its own,
 *   up to 8 per core, and freed memory in them is rarely given back: the one-shot config thread,
 *   the worker pool, V8's and libuv's helper threads), and blocks of 128 KiB or more mapped on
 *   their own and given back when freed (glibc's default threshold grows up to 32 MiB after the
 *   first large free, after which such blocks stay in the heap). bench/README.md, "Memory floor",
 *   has the measurements.
 */
export const PACKAGED_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

export const PACKAGED_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/**
 * The environment of a wireprobe started as packaged: the malloc settings unless the caller's
 * environment sets them (an experiment may), and `nodeOptions` as NODE_OPTIONS.
 */
export function packagedEnv(nodeOptions: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...PACKAGED_MALLOC_ENV, ...base, NODE_OPTIONS: nodeOptions };
}
