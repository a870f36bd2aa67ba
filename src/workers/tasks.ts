/**
 * Worker entry point: named handlers, one per TaskMap entry. Runs in worker threads; imports
 * nothing native (no raw-socket, no pcap, no prom-client, no logger).
 */
import { aggregateFlowBytes } from '../checks/conntrack-flows.js';
import { loadConfigFile } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import { decodeDataJob } from '../packet/flow/data-job.js';
import { flowBatchBuffers } from '../packet/flow/batch.js';
import { decodeBatch as decode } from '../packet/probe-frame.js';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { frameCodecs } from '../probes/index.js';
import type { TaskMap } from './protocol.js';

type Handlers = { [K in keyof TaskMap]: (input: TaskMap[K]['in']) => TaskMap[K]['out'] | Promise<TaskMap[K]['out']> };

/** the probe types' frame codecs, in registry order: the engine's type numbers */
const codecs = frameCodecs();

export const decodeBatch: Handlers['decodeBatch'] = (input) => decode(input.batch, input.used, codecs);

export const loadConfig: Handlers['loadConfig'] = async ({ path }) => {
  try {
    const { config, warnings } = await loadConfigFile(path);
    return { ok: true, config, warnings };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, code: e.code, message: e.message, file: e.file, problems: e.problems };
    if (e instanceof AppError) return { ok: false, code: e.code, message: e.message };
    return { ok: false, code: ErrorCodes.CFG_ERR_READ, message: `${path}: ${errorMessage(e)}` };
  }
};

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
