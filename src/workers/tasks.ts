/**
 * Worker entry point: named pure handlers, one per TaskMap entry. Runs in piscina worker
 * threads; imports nothing native (no raw-socket, no pcap, no prom-client, no logger).
 */
import { decodeBatch as decode } from '../packet/probe-frame.js';
import type { TaskMap } from './protocol.js';

type Handlers = { [K in keyof TaskMap]: (input: TaskMap[K]['in']) => TaskMap[K]['out'] };

export const decodeBatch: Handlers['decodeBatch'] = (input) => decode(input.batch, input.used);

// compile-time check that every task of the table has a handler here
const handlers: Handlers = { decodeBatch };
void handlers;
