/**
 * glibc's malloc_trim(0), through our own N-API addon (native/malloc-trim, built by `npm run
 * build:native`). glibc gives free memory back to the system on its own only from the top of an
 * arena; the free chunks a scrape's zlib output and buffers leave in the middle of the main arena
 * (~3 MB at 10 000 targets) stay resident until malloc_trim (bench/README.md, "Memory while
 * scraped"). The heap compactor trims after each compaction. Without the addon (not built: no
 * toolchain at install time; or a libc without malloc_trim) wireprobe runs as before and says why
 * it cannot trim.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { errorMessage } from './errors.js';

export interface MallocTrim {
  /** gives free malloc memory back to the system; true when there was some */
  trim(): boolean;
}

/** where `npm run build:native` puts the addon */
export const MALLOC_TRIM_ADDON = fileURLToPath(new URL('../../../native/malloc-trim/build/Release/malloc_trim.node', import.meta.url));

/** The addon at `path`, or null and why not (not built, or it failed to load). */
export function loadMallocTrim(path: string = MALLOC_TRIM_ADDON): { trim: MallocTrim | null; reason: string } {
  if (!existsSync(path)) return { trim: null, reason: `${path} not built (npm run build:native)` };
  try {
    const addon = createRequire(import.meta.url)(path) as { trim?: unknown };
    if (typeof addon.trim !== 'function') return { trim: null, reason: `${path} has no trim()` };
    const fn = addon.trim as () => boolean;
    return { trim: { trim: () => fn() }, reason: '' };
  } catch (e) {
    return { trim: null, reason: `cannot load ${path}: ${errorMessage(e)}` };
  }
}
