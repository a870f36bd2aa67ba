/**
 * Worker entry point: named handlers, one per TaskMap entry. Runs in worker threads; imports
 * nothing native (no raw-socket, no pcap, no prom-client, no logger).
 */
import { aggregateFlowBytes } from '../checks/conntrack-flows.js';
import { decodeDataJob } from '../packet/flow/data-job.js';
import { flowBatchBuffers } from '../packet/flow/batch.js';
import { decodeBatch as decode } from '../packet/probe-frame.js';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { frameCodecs } from '../probes/index.js';
import { loadConfig } from './config-task.js';

// piscina runs a task by its export's name
export { loadConfig };
import type { TaskHandler, TaskMap } from './protocol.js';

type Handlers = { [K in keyof TaskMap]: TaskHandler<K> };

/** the probe types' frame codecs, in registry order: the engine's type numbers */
const codecs = frameCodecs();

export const decodeBatch: Handlers['decodeBatch'] = (input) => decode(input.batch, input.used, codecs);

export const conntrackFlows: Handlers['conntrackFlows'] = ({ chunk }) => aggregateFlowBytes(chunk);

/** the result moved, not copied, back to the main thread */
export const decodeFlows: Handlers['decodeFlows'] = (job) => {
  const result = decodeDataJob(job);
  const k = result.keys;
  const buffers = [...flowBatchBuffers(result.batch), result.tallies.buffer, k.proto.buffer, k.srcPort.buffer, k.dstPort.buffer, k.exporter.buffer, k.inIf.buffer, k.outIf.buffer];
  return move({ [transferableSymbol]: buffers, [valueSymbol]: result }) as unknown as typeof result;
};

/** every task of the table, by name (compile-time exhaustive) */
export const handlers: Handlers = { decodeBatch, loadConfig, conntrackFlows, decodeFlows };
