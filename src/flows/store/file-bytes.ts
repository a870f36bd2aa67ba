/** The bytes a SQLite database occupies on disk: the file and its WAL. */
import { statSync } from 'node:fs';

export function fileBytes(path: string): number {
  let n = 0;
  for (const suffix of ['', '-wal']) {
    try {
      n += statSync(path + suffix).size;
    } catch {
      // no WAL file (yet)
    }
  }
  return n;
}
