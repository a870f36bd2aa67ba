/**
 * Dynamic inventories: the plugin contract (dynamic-inventories/README.md) and the coded
 * failure a listing ends with. A plugin lists; the supervisor (supervisor.ts) validates,
 * converts, keeps the last good list and hands the targets to TargetSources.
 */
import { AppError, ErrorCodes, isAppError } from '../lib/errors.js';

/** A listing source. `list` returns the entry document (schema/inventory.schema.json), unvalidated. */
export interface InventoryPlugin {
  /** must settle soon after `signal` aborts; a failure throws (an InventoryError, ideally) */
  list(signal: AbortSignal): Promise<unknown>;
  /** optional push: calls `changed` when a new listing is worth taking now; returns the unsubscribe */
  watch?(changed: () => void): () => void;
}

/**
 * The fleet's shared inventory as this member sees it (implemented in src/fleet/, injected: the
 * inventory layer knows nothing of NATS). `plugin(bucket)` is the member's share of one bucket as
 * a plugin: `list` returns the entry document of the entries selected for this member, `watch`
 * follows the bucket live.
 */
/** The shared inventory's bucket when the `fleet` plugin's options name none. */
export const DEFAULT_SHARED_BUCKET = 'wireprobe-inventory';

export interface SharedInventorySource {
  plugin(bucket: string): InventoryPlugin;
}

/** The bounded set of `reason` label values of wireprobe_inventory_failures_total. */
export const FAILURE_REASONS = ['timeout', 'exit', 'parse', 'schema', 'size', 'io', 'http', 'dns'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export class InventoryError extends AppError {
  readonly reason: FailureReason;
  constructor(reason: FailureReason, message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.INV_ERR_LIST, message, options);
    this.reason = reason;
  }
}

/** The failure reason of anything a listing threw. */
export function failureReason(e: unknown): FailureReason {
  if (e instanceof InventoryError) return e.reason;
  if (isAppError(e, ErrorCodes.OP_ERR_TIMEOUT)) return 'timeout';
  if (isAppError(e, ErrorCodes.EXEC_ERR_OUTPUT)) return 'size';
  return 'io';
}
