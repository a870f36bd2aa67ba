/**
 * The flow collector as a service: UDP sockets (IPv4 and IPv6, large receive buffers) feed the
 * decoder's control half (packet/flow/decoder.ts) on the main thread, which does the ordered
 * per-datagram work (headers, templates, options records, sequence numbers, early data) and
 * queues the validated data sets; every JOB_DATAGRAMS datagrams (or JOB_MS after the first) the
 * queue goes, as one DataJob with one buffer, to be decoded into a FlowBatch
 * (packet/flow/data-job.ts): here (flows.decode "inline", the default) or in the worker pool
 * ("pool", the job's buffer transferred). The batch goes to the top-talker window and to every
 * sink, and its tallies to the per-exporter counters; its buffer, unless a sink transferred it
 * away, is decoded into again by a later job (a few kept), instead of a new one per batch; a
 * sink that transferred it hands it back once done (FlowSink.takeSpare: the SQLite store, after
 * its transaction).
 * With the pool, batches may reach the sinks out of order; the per-exporter counters and the
 * top-N totals do not depend on order.
 *
 * Why inline by default (bench/flow-bench.ts, bench/README.md "flowrx branch" and "flowcpu2"):
 * the pool moved the record decoding and the small top-N keys (key-tally.ts) to the other core
 * so that this thread kept receiving, which mattered while it woke once per datagram (dgram:
 * the pool took in 1.3-1.6x the datagrams). With the batched receiver it wakes once per up to 64
 * datagrams, and inline took in as many datagrams as the pool at 20 000 and 10 000 datagrams/s,
 * with no more kernel drops, at less CPU per flow (median 26-28 %): the thread hop (the job and batch
 * buffers crossing, piscina's task, the worker's GC) cost more than it saved. The per-flow
 * tally of addresses and conversations stays on this thread either way: its tables are one
 * window's state, and merging per-job partial tables from a worker would cost as much as
 * tallying the rows (those keys are nearly unique per flow). With "pool", when the pool is
 * behind (MAX_JOBS_IN_FLIGHT jobs pending) a job is decoded here, so nothing is dropped;
 * wireprobe_flow_decode_jobs_total says where jobs ran. A job whose task fails is counted as
 * decode errors (reason "worker"), per set.
 *
 * A tick each second evicts aged early data, rolls the top window, saves changed templates
 * (atomically, under state_dir), reads the sockets' kernel drops (SO_RXQ_OVFL with the
 * batched receiver, else /proc/net/udp{,6}) and logs new receive errors (counted per socket in
 * wireprobe_flow_socket_errors_total).
 * One socket per address (net/udp-receiver.ts): read in batches with recvmmsg by our addon when
 * it is built, else with Node's dgram, one 'message' event per datagram
 * (wireprobe_flow_socket_receiver says which, and start logs why dgram). The control half copies
 * only the data sets into the job's buffer (early data: a copy of the datagram), so the receive
 * buffer can be reused by the next batch.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Config, FlowsConfig } from '../config/types.js';
import { removeStaleTemporaries, writeAtomic } from '../lib/atomic-file.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { LogFields, Logger } from '../lib/logger.js';
import type { ReloadOutcome, Service } from '../lib/service.js';
import { decodeDataJob, type DataJob, type DataJobResult } from '../packet/flow/data-job.js';
import { FlowDecoder, type DecoderLimits, type ExporterState } from '../packet/flow/decoder.js';
import { openUdpReceiver, udpBatchAddon, type UdpReceiver, type UdpReceiverKind } from '../net/udp-receiver.js';
import type { WorkerPool } from '../workers/pool.js';
import { registerFlowMetrics, type SocketStats } from './metrics.js';
import { procLocalAddress, socketDrops } from './proc-udp.js';
import { TopTalkers, type TopOptions } from './top.js';
import type { FlowSink } from './types.js';

export interface FlowsServiceDeps {
  readonly config: FlowsConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly registry: Registry;
  /** where /proc is (a fixture tree in tests) */
  readonly paths: { readonly procfs: string };
  /** the flow stores to feed, opened from the config at start */
  readonly sinks: (config: FlowsConfig) => FlowSink[] | Promise<FlowSink[]>;
  /** the worker pool, where data sets are decoded when config.decode is "pool" (null: always on this thread) */
  readonly pool: WorkerPool | null;
  /** how the sockets are read (default recvmmsg, which falls back to dgram when the addon is not built) */
  readonly receiver?: UdpReceiverKind;
}

export interface FlowsService extends Service<Config> {
  start(): Promise<void>;
  stop(drainMs: number): Promise<void>;
  reload(next: Config): ReloadOutcome;
  summary(): LogFields;
  /** rows decoded so far and handed to the sinks (tests, bench) */
  flowsHandedOver(): number;
}

/** the templates file under state_dir */
export const TEMPLATES_FILE = 'templates.json';
const STATE_VERSION = 1;
const MAX_STATE_BYTES = 64 * 1024 * 1024;
const TICK_MS = 1000;
/** seconds between kernel-drop reads and between template saves */
const DROPS_EVERY_TICKS = 5;
/** datagrams per decoding job */
const JOB_DATAGRAMS = 512;
/** otherwise, a job is handed over this long after its first datagram */
const JOB_MS = 100;
/** jobs in the pool at once; beyond, jobs are decoded on this thread */
const MAX_JOBS_IN_FLIGHT = 4;
/** distinct keys per top-talker group and window */
const TOP_MAX_KEYS = 200_000;
/** spent batch buffers kept to decode the next jobs into */
const MAX_SPARES = MAX_JOBS_IN_FLIGHT + 1;

const limitsOf = (c: FlowsConfig): DecoderLimits => ({
  maxExporters: c.max_exporters,
  maxTemplates: c.max_templates,
  earlyMaxDatagrams: c.early_data.max_datagrams,
  earlyMaxAgeMs: c.early_data.max_age * 1000,
});

const topOf = (c: FlowsConfig): TopOptions => ({ n: c.top.n, maxSeries: c.top.max_series, maxKeys: TOP_MAX_KEYS });

interface Listener {
  readonly receiver: UdpReceiver;
  readonly listen: string;
  /** /proc/net/udp{,6} local_address */
  readonly local: string;
  readonly procFile: string;
  kernelDrops: number | null;
  /** receive errors already logged */
  loggedErrors: number;
}

export function createFlowsService(deps: FlowsServiceDeps): FlowsService {
  const { clock, log } = deps;
  let config = deps.config;
  const decoder = new FlowDecoder(limitsOf(config));
  let top = new TopTalkers(topOf(config));
  let sinks: FlowSink[] = [];
  const listeners: Listener[] = [];
  let tick: TimerHandle | null = null;
  let ticks = 0;
  let windowStart = clock.monoMs();
  let savedGeneration = 0;
  let saving: Promise<void> = Promise.resolve();
  let handedOver = 0;
  let jobTimer: TimerHandle | null = null;
  const running = new Set<Promise<void>>();
  const jobs = { pool: 0, inline: 0 };
  /** buffers of batches that every sink is done with (a sink copies or transfers what it keeps) */
  const spares: ArrayBuffer[] = [];
  const stateFile = join(config.state_dir, TEMPLATES_FILE);

  registerFlowMetrics(deps.registry, {
    *exporters(): Iterable<ExporterState> {
      yield* decoder.exporters();
      const o = decoder.overflow;
      if (o.datagrams[5] + o.datagrams[9] + o.datagrams[10] > 0) yield o;
    },
    sockets: (): SocketStats[] => listeners.map((l) => ({ listen: l.listen, receiver: l.receiver.kind, receiveBufferBytes: l.receiver.receiveBufferBytes, kernelDrops: l.kernelDrops, errors: l.receiver.errors() })),
    sinks: () => sinks.map((s) => ({ name: s.name, stats: s.stats() })),
    top: () => top.entries(),
    jobs: () => jobs,
    get topWindowSeconds() {
      return config.top.window;
    },
  });

  const deliver = (job: DataJob, r: DataJobResult): void => {
    decoder.applyTallies(job.exporters, r.tallies);
    if (r.batch.count > 0) {
      handedOver += r.batch.count;
      top.add(r.batch, r.keys);
      for (const s of sinks) s.write(r.batch);
    }
    // still ours unless a sink transferred it
    const buf = r.batch.bytes.buffer;
    if (buf instanceof ArrayBuffer && buf.byteLength > 0 && spares.length < MAX_SPARES) spares.push(buf);
  };

  /** a spent batch's buffer: one of ours, or one a sink that transferred it away is done with */
  const takeSpare = (): ArrayBuffer | undefined => {
    let spare = spares.pop();
    for (let i = 0; spare === undefined && i < sinks.length; i++) spare = sinks[i]!.takeSpare?.();
    return spare;
  };

  /** the next queued job, with a spare buffer to decode into when there is one */
  const takeJob = (): DataJob | null => {
    const job = decoder.takeJob();
    const spare = job === null ? undefined : takeSpare();
    return job === null || spare === undefined ? job : { ...job, spare };
  };

  /** hands the queued data sets over: to the pool, or decoded here when the pool is absent or behind */
  const dispatch = (): void => {
    jobTimer?.cancel();
    jobTimer = null;
    const job = takeJob();
    if (job === null) return;
    const pool = config.decode === 'pool' ? deps.pool : null;
    if (pool === null || running.size >= MAX_JOBS_IN_FLIGHT) {
      jobs.inline++;
      deliver(job, decodeDataJob(job));
      return;
    }
    jobs.pool++;
    const task = pool.run('decodeFlows', job, job.spare === undefined ? [job.data.buffer as ArrayBuffer] : [job.data.buffer as ArrayBuffer, job.spare]).then(
      (r) => deliver(job, r),
      (e: unknown) => {
        decoder.jobLost(job);
        log.error('flow decoding task failed', { sets: job.setCount, err: errorMessage(e) });
      },
    ).finally(() => running.delete(task));
    running.add(task);
  };

  let nowMs = 0;
  const onBatchStart = (): void => {
    nowMs = clock.wallMs();
  };
  const onDatagram = (buf: Uint8Array, source: string): void => {
    decoder.decode(buf, source, nowMs);
  };
  const onBatchEnd = (): void => {
    if (decoder.queue.datagrams >= JOB_DATAGRAMS) dispatch();
    else if (jobTimer === null && decoder.queue.setCount > 0) jobTimer = clock.setTimer(JOB_MS, dispatch);
  };

  const saveTemplates = (): Promise<void> => {
    if (decoder.generation === savedGeneration) return saving;
    const generation = decoder.generation;
    const text = `${JSON.stringify({ version: STATE_VERSION, ...decoder.exportState() })}\n`;
    saving = saving.then(() => writeAtomic(stateFile, text)).then(
      () => {
        savedGeneration = generation;
      },
      (e: unknown) => log.error('cannot save flow templates', { file: stateFile, err: errorMessage(e) }),
    );
    return saving;
  };

  const loadTemplates = async (): Promise<void> => {
    await removeStaleTemporaries(stateFile);
    let text: string;
    try {
      const { size } = await stat(stateFile);
      if (size > MAX_STATE_BYTES) {
        log.warn('saved flow templates too large; starting without', { file: stateFile, size, max: MAX_STATE_BYTES });
        return;
      }
      text = await readFile(stateFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn('cannot read saved flow templates; starting without', { file: stateFile, err: errorMessage(e) });
      return;
    }
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch (e) {
      log.warn('saved flow templates are not JSON; starting without', { file: stateFile, err: errorMessage(e) });
      return;
    }
    const n = decoder.importState(state);
    savedGeneration = decoder.generation;
    log.info('flow templates restored', { file: stateFile, templates: n });
  };

  /** logs the batched receiver's errors since the last check, one line per socket (dgram's are logged as they come, by onError) */
  const logErrors = (): void => {
    for (const l of listeners) {
      const errors = l.receiver.errors();
      if (errors === l.loggedErrors || l.receiver.kind === 'dgram') continue;
      log.warn('flow socket receive errors', { listen: l.listen, errors: errors - l.loggedErrors, errno: l.receiver.lastErrno() });
      l.loggedErrors = errors;
    }
  };

  const readDrops = async (): Promise<void> => {
    const texts = new Map<string, Promise<string | null>>();
    for (const l of listeners) {
      const own = l.receiver.kernelDrops();
      if (own !== null) {
        l.kernelDrops = own;
        continue;
      }
      if (!texts.has(l.procFile)) texts.set(l.procFile, readFile(l.procFile, 'utf8').catch(() => null));
      const text = await texts.get(l.procFile)!;
      l.kernelDrops = text === null ? null : socketDrops(text, l.local);
    }
  };

  const onTick = (): void => {
    tick = clock.setTimer(TICK_MS, onTick);
    ticks++;
    dispatch();
    decoder.expire(clock.wallMs());
    const now = clock.monoMs();
    if (now - windowStart >= config.top.window * 1000) {
      windowStart = now;
      top.roll();
    }
    if (ticks % DROPS_EVERY_TICKS === 0) {
      void saveTemplates();
      void readDrops();
      logErrors();
    }
  };

  return {
    name: 'flows',
    async start() {
      await mkdir(config.state_dir, { recursive: true });
      await loadTemplates();
      sinks = await deps.sinks(config);
      const want = deps.receiver ?? 'recvmmsg';
      const { reason } = udpBatchAddon();
      if (want === 'recvmmsg' && reason !== '') log.warn('flows: receiving with Node dgram, one datagram per event (the batched receiver is not available)', { reason });
      for (const { address, port } of config.listen) {
        const onError = (e: Error): void => log.error('flow socket error', { address, err: errorMessage(e) });
        const receiver = await openUdpReceiver({ address, port, receiveBufferBytes: config.receive_buffer_bytes, onBatchStart, onDatagram, onBatchEnd, onError }, want);
        const bound = receiver.port;
        const l: Listener = {
          receiver,
          listen: address.includes(':') ? `[${address}]:${bound}` : `${address}:${bound}`,
          local: procLocalAddress(address, bound) ?? '',
          procFile: join(deps.paths.procfs, 'net', address.includes(':') ? 'udp6' : 'udp'),
          kernelDrops: null,
          loggedErrors: 0,
        };
        listeners.push(l);
        if (receiver.receiveBufferBytes < config.receive_buffer_bytes) {
          log.warn('the kernel granted a smaller receive buffer than asked (raise net.core.rmem_max, or grant CAP_NET_ADMIN)', {
            listen: l.listen, asked: config.receive_buffer_bytes, granted: receiver.receiveBufferBytes,
          });
        }
      }
      await readDrops();
      windowStart = clock.monoMs();
      tick = clock.setTimer(TICK_MS, onTick);
    },
    async stop(drainMs) {
      tick?.cancel();
      tick = null;
      for (const l of listeners.splice(0)) l.receiver.close();
      dispatch();
      let timer: TimerHandle | null = null;
      await Promise.race([Promise.all(running), new Promise<void>((resolve) => {
        timer = clock.setTimer(drainMs, resolve);
      })]);
      (timer as TimerHandle | null)?.cancel();
      await saveTemplates();
      await Promise.all(sinks.map(async (s) => {
        try {
          await s.flush(drainMs);
        } catch (e) {
          log.warn('flow sink did not flush in time', { sink: s.name, err: errorMessage(e) });
        }
        await s.close(drainMs).catch((e: unknown) => log.warn('flow sink did not close cleanly', { sink: s.name, err: errorMessage(e) }));
      }));
    },
    reload(next) {
      const flows = next.flows;
      if (flows === undefined || JSON.stringify(flows) === JSON.stringify(config)) return 'unchanged';
      const restart = (['listen', 'receive_buffer_bytes', 'state_dir', 'sqlite', 'postgres', 'enabled'] as const)
        .filter((k) => JSON.stringify(flows[k]) !== JSON.stringify(config[k]));
      if (restart.length > 0) log.warn('flows: these changes take effect at the next restart', { keys: restart.join(',') });
      decoder.limits = limitsOf(flows);
      if (JSON.stringify(flows.top) !== JSON.stringify(config.top)) top = new TopTalkers(topOf(flows));
      config = { ...flows, listen: config.listen, receive_buffer_bytes: config.receive_buffer_bytes, state_dir: config.state_dir, sqlite: config.sqlite, postgres: config.postgres };
      return 'applied';
    },
    summary: () => ({ flowListen: listeners.map((l) => l.listen).join(','), flowSinks: sinks.map((s) => s.name).join(',') }),
    flowsHandedOver: () => handedOver,
  };
}
