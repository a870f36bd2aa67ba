/**
 * Retention decisions, pure: what to delete (by age and by size) and how much free space to
 * give back, from a snapshot of the store. The SQLite store deletes whole chunks (the oldest first)
 * and vacuums pages; the PostgreSQL sink drops whole partitions.
 */
import type { FlowRetentionConfig } from '../../config/types.js';

/** Size retention starts deleting above HIGH × max_bytes and deletes down to LOW × max_bytes. */
export const SIZE_HIGH_WATER = 0.9;
export const SIZE_LOW_WATER = 0.85;

export interface SqliteSpace {
  readonly pageSize: number;
  readonly pageCount: number;
  readonly freelistCount: number;
  /** bytes of flow data (the chunks' BLOBs) stored */
  readonly storedBytes: number;
}

export interface SqlitePlan {
  /** delete flows whose end is before this (ms), or null */
  readonly endBeforeMs: number | null;
  /** then delete the oldest chunks until this many bytes of flow data are gone, or null */
  readonly deleteBytes: number | null;
  /** pages to hand back to the file system with incremental_vacuum */
  readonly vacuumPages: number;
}

/**
 * Age: everything that ended more than max_age ago. Size: the pages in use (not the free ones,
 * which inserts reuse) above the high-water mark → delete the oldest share of the flow data that
 * brings them to the low-water mark (pages and flow data shrink in proportion). Free pages are kept for reuse, except
 * that the file is truncated back to max_bytes, and a free list larger than a quarter of the
 * file (after a burst, or with an age limit only) is halved.
 */
export function planSqliteRetention(nowMs: number, retention: FlowRetentionConfig, space: SqliteSpace): SqlitePlan {
  const endBeforeMs = retention.max_age > 0 ? nowMs - retention.max_age * 1000 : null;
  let deleteBytes: number | null = null;
  const usedBytes = (space.pageCount - space.freelistCount) * space.pageSize;
  if (retention.max_bytes > 0 && usedBytes > retention.max_bytes * SIZE_HIGH_WATER && space.storedBytes > 0) {
    const share = 1 - (retention.max_bytes * SIZE_LOW_WATER) / usedBytes;
    deleteBytes = Math.ceil(space.storedBytes * share);
  }
  let vacuumPages = 0;
  const fileBytes = space.pageCount * space.pageSize;
  if (retention.max_bytes > 0 && fileBytes > retention.max_bytes) {
    vacuumPages = Math.min(space.freelistCount, Math.ceil((fileBytes - retention.max_bytes) / space.pageSize));
  }
  if (space.freelistCount > space.pageCount / 4) vacuumPages = Math.max(vacuumPages, Math.floor(space.freelistCount / 2));
  return { endBeforeMs, deleteBytes, vacuumPages };
}

export interface Partition {
  readonly name: string;
  /** [fromMs, toMs) */
  readonly fromMs: number;
  readonly toMs: number;
  readonly bytes: number;
}

/**
 * The partitions to drop, oldest first: those wholly older than max_age, then the oldest
 * until the total fits max_bytes. The partition holding `nowMs` and later ones are never
 * dropped for size (the limit then holds once time moves on).
 */
export function planPartitionRetention(nowMs: number, retention: FlowRetentionConfig, partitions: readonly Partition[]): string[] {
  const sorted = [...partitions].sort((a, b) => a.fromMs - b.fromMs);
  const drop: string[] = [];
  let total = sorted.reduce((n, p) => n + p.bytes, 0);
  for (const p of sorted) {
    const tooOld = retention.max_age > 0 && p.toMs <= nowMs - retention.max_age * 1000;
    const tooBig = retention.max_bytes > 0 && total > retention.max_bytes && p.toMs <= nowMs;
    if (!tooOld && !tooBig) continue;
    drop.push(p.name);
    total -= p.bytes;
  }
  return drop;
}
