/**
 * The state of each inventory as metrics, labelled by inventory name. Series of an inventory
 * that is removed from the config are removed exactly (by full label set).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { FAILURE_REASONS, type FailureReason } from './types.js';

export interface InventoryMetrics {
  /** creates the series of an inventory (up 0, counters at 0) */
  add(inventory: string): void;
  attempt(inventory: string, ok: boolean, wallMs: number): void;
  failure(inventory: string, reason: FailureReason): void;
  listed(inventory: string, counts: { targets: number; rejected: number; expired: number }): void;
  remove(inventory: string): void;
}

export function createInventoryMetrics(registry: Registry): InventoryMetrics {
  const registers = [registry];
  const labelNames = ['inventory'] as const;
  const up = new Gauge({ name: 'wireprobe_inventory_up', help: 'Whether the last listing of the inventory succeeded', labelNames, registers });
  const targets = new Gauge({ name: 'wireprobe_inventory_targets', help: 'Targets the inventory currently contributes', labelNames, registers });
  const rejected = new Gauge({ name: 'wireprobe_inventory_entries_rejected', help: 'Entries of the last good listing rejected as invalid', labelNames, registers });
  const expired = new Gauge({ name: 'wireprobe_inventory_entries_expired', help: 'Entries of the last good listing dropped because their lifetime is over', labelNames, registers });
  const lastSuccess = new Gauge({
    name: 'wireprobe_inventory_last_success_timestamp_seconds',
    help: 'Unix time of the last successful listing (absent before the first one)',
    labelNames,
    registers,
  });
  const failures = new Counter({
    name: 'wireprobe_inventory_failures_total',
    help: 'Failed listings by reason (timeout, exit, parse, schema, size, io, http, dns)',
    labelNames: ['inventory', 'reason'] as const,
    registers,
  });
  return {
    add(inventory) {
      up.set({ inventory }, 0);
      for (const g of [targets, rejected, expired]) g.set({ inventory }, 0);
      for (const reason of FAILURE_REASONS) failures.inc({ inventory, reason }, 0);
    },
    attempt(inventory, ok, wallMs) {
      up.set({ inventory }, ok ? 1 : 0);
      if (ok) lastSuccess.set({ inventory }, wallMs / 1000);
    },
    failure(inventory, reason) {
      failures.inc({ inventory, reason });
    },
    listed(inventory, counts) {
      targets.set({ inventory }, counts.targets);
      rejected.set({ inventory }, counts.rejected);
      expired.set({ inventory }, counts.expired);
    },
    remove(inventory) {
      for (const g of [up, targets, rejected, expired, lastSuccess]) g.remove({ inventory });
      for (const reason of FAILURE_REASONS) failures.remove({ inventory, reason });
    },
  };
}
