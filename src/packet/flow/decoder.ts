/**
 * The NetFlow v5 / v9 / IPFIX (RFC 7011) decoder's control half: stateful (templates, sequence
 * numbers, samplers, the early-data buffer, per exporter) but free of I/O. The caller hands it
 * datagrams with their exporter address and the time, in order; it does the per-datagram work
 * that needs that ordered state (headers, set tiling, templates and withdrawals, options
 * records, sequence accounting, early-data decisions, record counts) and queues the flow data
 * sets, validated, into a DataJob (data-job.ts) that any thread decodes into rows. The
 * per-exporter flow, byte and packet counters move when a decoded job's tallies come back
 * (applyTallies); decodeQueued() does both on the calling thread.
 *
 * - Templates are keyed by exporter + version + observation domain (v9 source id) + template id.
 * - Data sets whose template is unknown wait in a bounded buffer per exporter (count and age)
 *   and are decoded when the template arrives.
 * - Sampling: the interval of the record's sampler (options records: IEs 34, 50, 305/306,
 *   309/310, per sampler id 48/302; the v5 header field), bytes and packets scaled, raw kept.
 * - Sequence numbers per (exporter, version, domain): v5 counts flows, v9 export packets, IPFIX
 *   data records; gaps are counted as lost.
 * - A malformed datagram is counted (by reason) and dropped: its rows are removed; decode() never throws.
 */
import type { FlowBatch, FlowVersion } from './types.js';
import { countRecords, DataJobBuilder, decodeDataJob, SET_FIELDS, SetField, TALLY_FIELDS, u16, u32, uint, type DataJob, type DomainSnap } from './data-job.js';
import { compileTemplate, Op, VARIABLE_LENGTH, type Plan, type TemplateDef, type TemplateField } from './template.js';

/** 'worker': a queued job lost because its decoding task failed (counted per set) */
export type DecodeErrorReason = 'truncated' | 'bad_version' | 'bad_set' | 'bad_template' | 'template_limit' | 'exporter_limit' | 'worker';

export interface DecoderLimits {
  /** exporters with state; datagrams of later exporters are counted (exporter "other") and dropped */
  readonly maxExporters: number;
  /** templates kept per exporter (all versions and domains) */
  readonly maxTemplates: number;
  /** early-data buffer, per exporter */
  readonly earlyMaxDatagrams: number;
  readonly earlyMaxAgeMs: number;
}

interface DomainState {
  readonly version: FlowVersion;
  readonly domain: number;
  readonly templates: Map<number, Plan>;
  seqKnown: boolean;
  nextSeq: number;
  /** sampler id → sampling interval; NO_SAMPLER: the options record named no sampler */
  readonly samplers: Map<number, number>;
  /** rate for records that name no (known) sampler */
  defaultRate: number;
  /** IPFIX systemInitTimeMilliseconds, NaN when unknown */
  initMs: number;
  /** the state above as queued with data sets; null after a change */
  snap: DomainSnap | null;
  /**
   * IPFIX: held entries whose data records the sequence numbers count but nobody has counted
   * yet; while there are any, gaps go to deferredGap, and each entry decoded takes its records
   * off it; the rest is lost once none is held (NaN: an entry was evicted, the gap is unknown)
   */
  heldUncounted: number;
  deferredGap: number;
}

const NO_SAMPLER = -1;

/** A datagram's data sets that wait for their template. */
interface EarlyEntry {
  readonly dom: DomainState;
  readonly receivedMs: number;
  readonly exportMs: number;
  readonly uptimeMs: number;
  readonly data: Uint8Array;
  /** template id, start, end of each waiting set */
  readonly sets: number[];
  /** IPFIX: its records are part of dom.deferredGap */
  readonly deferred: boolean;
}

/** What happened per exporter, read by the collector's metrics. */
export class ExporterState {
  readonly datagrams = { 5: 0, 9: 0, 10: 0 };
  readonly sequenceLost = { 5: 0, 9: 0, 10: 0 };
  flows = 0;
  bytes = 0;
  packets = 0;
  readonly errors = new Map<DecodeErrorReason, number>();
  earlyEvictedAge = 0;
  earlyEvictedCount = 0;
  earlyDecoded = 0;
  /** Unix ms of the last datagram */
  lastDatagramMs = 0;
  /** sampling interval of the last flow */
  lastSamplingRate = 1;
  templateCount = 0;
  readonly domains = new Map<number, DomainState>();
  early: EarlyEntry[] = [];
  constructor(readonly address: string) {}

  get earlyBuffered(): number {
    return this.early.length;
  }
}

/** Persisted decoder state: templates and samplers, so that a restart decodes at once. */
export interface FlowDecoderState {
  readonly templates: readonly { exporter: string; version: FlowVersion; domain: number; def: TemplateDef }[];
  readonly samplers: readonly { exporter: string; version: FlowVersion; domain: number; sampler: number; rate: number }[];
}

class Malformed extends Error {
  constructor(readonly reason: DecodeErrorReason) {
    super(reason);
  }
}

const SEQ_WINDOW = 65536;

/** Per-datagram decoding context. */
interface Ctx {
  exportMs: number;
  /** v9 sysUptime ms; NaN for IPFIX */
  uptimeMs: number;
  exporter: string;
  /** IPFIX: data records seen (sequence) */
  records: number;
}

function sameDef(a: TemplateDef, b: TemplateDef): boolean {
  if (a.options !== b.options || a.scopeCount !== b.scopeCount || a.fields.length !== b.fields.length) return false;
  return a.fields.every((f, i) => f.id === b.fields[i]!.id && f.length === b.fields[i]!.length && f.enterprise === b.fields[i]!.enterprise);
}

export class FlowDecoder {
  /** the validated flow data sets queued so far */
  readonly queue: DataJobBuilder;
  readonly #exporters = new Map<string, ExporterState>();
  /** datagrams from exporters beyond the limit */
  readonly overflow = new ExporterState('other');
  /** bumped whenever a template or sampler changes (persistence) */
  generation = 0;
  readonly #ctx: Ctx = { exportMs: 0, uptimeMs: NaN, exporter: '', records: 0 };
  #templatesLearned: DomainState[] = [];

  constructor(public limits: DecoderLimits, queue?: DataJobBuilder) {
    this.queue = queue ?? new DataJobBuilder();
  }

  /** the queued data sets as a job (null when none) */
  takeJob(): DataJob | null {
    return this.queue.take();
  }

  /** counts a decoded job's flows, bytes and packets for its exporters */
  applyTallies(exporters: readonly string[], tallies: Float64Array): void {
    for (let i = 0; i < exporters.length; i++) {
      const st = this.#exporters.get(exporters[i]!);
      if (st === undefined) continue;
      const t = i * TALLY_FIELDS;
      st.flows += tallies[t]!;
      st.bytes += tallies[t + 1]!;
      st.packets += tallies[t + 2]!;
      if (tallies[t + 3]! > 0) st.lastSamplingRate = tallies[t + 3]!;
    }
  }

  /** counts a job whose decoding failed (its `sets` still readable): one 'worker' error per set, per exporter */
  jobLost(job: DataJob): void {
    for (let s = 0; s < job.setCount; s++) {
      const st = this.#exporters.get(job.exporters[job.sets[s * SET_FIELDS + SetField.EXPORTER]!]!);
      if (st !== undefined) st.errors.set('worker', (st.errors.get('worker') ?? 0) + 1);
    }
  }

  /** decodes the queued data sets on this thread and counts them: their rows (count 0 when none) */
  decodeQueued(): FlowBatch {
    const job = this.queue.take();
    const { batch, tallies } = decodeDataJob(job ?? EMPTY_JOB);
    if (job !== null) this.applyTallies(job.exporters, tallies);
    return batch;
  }

  exporters(): IterableIterator<ExporterState> {
    return this.#exporters.values();
  }

  #exporter(address: string): ExporterState | null {
    let st = this.#exporters.get(address);
    if (st === undefined) {
      if (this.#exporters.size >= this.limits.maxExporters) return null;
      st = new ExporterState(address);
      this.#exporters.set(address, st);
    }
    return st;
  }

  #domain(st: ExporterState, version: FlowVersion, domain: number): DomainState {
    const key = version * 0x1_0000_0000 + domain;
    let d = st.domains.get(key);
    if (d === undefined) {
      d = { version, domain, templates: new Map(), seqKnown: false, nextSeq: 0, samplers: new Map(), defaultRate: 1, initMs: NaN, snap: null, heldUncounted: 0, deferredGap: 0 };
      st.domains.set(key, d);
    }
    return d;
  }

  /** Decodes one datagram from `exporter` (address text) received at `nowMs` (Unix ms); never throws. */
  decode(buf: Uint8Array, exporter: string, nowMs: number): void {
    const st = this.#exporter(exporter);
    if (st === null) {
      const o = this.overflow;
      const v = buf.length >= 2 ? u16(buf, 0) : 0;
      if (v === 5 || v === 9 || v === 10) o.datagrams[v]++;
      o.errors.set('exporter_limit', (o.errors.get('exporter_limit') ?? 0) + 1);
      o.lastDatagramMs = nowMs;
      return;
    }
    st.lastDatagramMs = nowMs;
    this.#expire(st, nowMs);
    const q = this.queue;
    q.mark();
    q.datagrams++;
    try {
      if (buf.length < 4) throw new Malformed('truncated');
      const version = u16(buf, 0);
      if (version === 5) {
        st.datagrams[5]++;
        this.#v5(st, buf, exporter);
      } else if (version === 9 || version === 10) {
        st.datagrams[version]++;
        this.#templated(st, version, buf, exporter, nowMs);
      } else {
        throw new Malformed('bad_version');
      }
    } catch (e) {
      q.rollback();
      const reason = e instanceof Malformed ? e.reason : 'truncated';
      st.errors.set(reason, (st.errors.get(reason) ?? 0) + 1);
    }
  }

  /** Evicts early data older than the age limit, for every exporter (call it now and then). */
  expire(nowMs: number): void {
    for (const st of this.#exporters.values()) this.#expire(st, nowMs);
  }

  #expire(st: ExporterState, nowMs: number): void {
    const early = st.early;
    if (early.length === 0 || nowMs - early[0]!.receivedMs <= this.limits.earlyMaxAgeMs) return;
    const keep = early.filter((e) => nowMs - e.receivedMs <= this.limits.earlyMaxAgeMs || evicted(e));
    st.earlyEvictedAge += early.length - keep.length;
    st.early = keep;
  }

  #v5(st: ExporterState, buf: Uint8Array, exporter: string): void {
    if (buf.length < 24) throw new Malformed('truncated');
    const count = u16(buf, 2);
    if (buf.length < 24 + count * 48) throw new Malformed('truncated');
    const uptime = u32(buf, 4);
    const exportMs = u32(buf, 8) * 1000 + Math.floor(u32(buf, 12) / 1e6);
    const seq = u32(buf, 16);
    const domain = (buf[20]! << 8) | buf[21]!;
    const interval = u16(buf, 22) & 0x3fff;
    const rate = interval > 0 ? interval : 1;
    const dom = this.#domain(st, 5, domain);
    this.#sequence(st, dom, seq, count);
    if (count > 0) this.queue.add(null, v5Snap(dom, rate), exporter, exportMs, uptime, buf, 24, 24 + count * 48, count);
  }

  /** counts a gap between `seq` and the expected number; `advance` null: the next number is unknown */
  #sequence(st: ExporterState, dom: DomainState, seq: number, advance: number | null): void {
    if (dom.seqKnown) {
      const ahead = (seq - dom.nextSeq) >>> 0;
      if (ahead !== 0 && ahead < 0x8000_0000) {
        if (dom.heldUncounted > 0) dom.deferredGap += ahead;
        else st.sequenceLost[dom.version] += ahead;
      } else if (ahead !== 0 && ((dom.nextSeq - seq) >>> 0) <= SEQ_WINDOW) {
        return; // a late (reordered or duplicated) datagram: the expectation stands
      }
    }
    if (advance === null) {
      dom.seqKnown = false;
    } else {
      dom.seqKnown = true;
      dom.nextSeq = (seq + advance) >>> 0;
    }
  }

  #templated(st: ExporterState, version: 9 | 10, buf: Uint8Array, exporter: string, nowMs: number): void {
    const ipfix = version === 10;
    const headerLen = ipfix ? 16 : 20;
    if (buf.length < headerLen) throw new Malformed('truncated');
    let end = buf.length;
    if (ipfix) {
      end = u16(buf, 2);
      if (end < 16 || end > buf.length) throw new Malformed('truncated');
    }
    // set headers first: a datagram whose sets do not tile it is dropped before any state changes
    let off = headerLen;
    while (end - off >= 4) {
      const len = u16(buf, off + 2);
      if (len < 4 || off + len > end) throw new Malformed('bad_set');
      off += len;
    }
    if (ipfix && off !== end) throw new Malformed('bad_set');
    const seq = u32(buf, ipfix ? 8 : 12);
    const domainId = u32(buf, ipfix ? 12 : 16);
    const dom = this.#domain(st, version, domainId);
    const ctx = this.#ctx;
    ctx.exportMs = u32(buf, ipfix ? 4 : 8) * 1000;
    ctx.uptimeMs = ipfix ? NaN : u32(buf, 4);
    ctx.exporter = exporter;
    ctx.records = 0;
    this.#templatesLearned = [];
    const pending: number[] = [];
    for (off = headerLen; end - off >= 4;) {
      const setId = u16(buf, off);
      const setEnd = off + u16(buf, off + 2);
      const body = off + 4;
      if (setId === (ipfix ? 2 : 0)) this.#templates(st, dom, buf, body, setEnd, false);
      else if (setId === (ipfix ? 3 : 1)) this.#templates(st, dom, buf, body, setEnd, true);
      else if (setId >= 256) {
        const plan = dom.templates.get(setId);
        if (plan === undefined) pending.push(setId, body, setEnd);
        else this.#dataSet(dom, plan, buf, body, setEnd, ctx);
      }
      off = setEnd;
    }
    // a data set ahead of its template in the same datagram
    const waiting: number[] = [];
    for (let i = 0; i < pending.length; i += 3) {
      const plan = dom.templates.get(pending[i]!);
      if (plan === undefined) waiting.push(pending[i]!, pending[i + 1]!, pending[i + 2]!);
      else this.#dataSet(dom, plan, buf, pending[i + 1]!, pending[i + 2]!, ctx);
    }
    // IPFIX counts data records: sets left undecoded and not held make the next number unknown;
    // held ones defer the gap accounting until they are decoded
    const held = waiting.length > 0 && this.limits.earlyMaxDatagrams > 0;
    this.#sequence(st, dom, seq, ipfix ? (waiting.length > 0 && !held ? null : ctx.records) : 1);
    if (this.#templatesLearned.length > 0) this.#drainEarly(st, exporter);
    if (waiting.length > 0) this.#buffer(st, dom, buf, waiting, nowMs, ctx);
  }

  #buffer(st: ExporterState, dom: DomainState, buf: Uint8Array, sets: number[], nowMs: number, ctx: Ctx): void {
    if (this.limits.earlyMaxDatagrams === 0) {
      st.earlyEvictedCount++;
      return;
    }
    if (st.early.length >= this.limits.earlyMaxDatagrams) {
      evicted(st.early.shift()!);
      st.earlyEvictedCount++;
    }
    const deferred = dom.version === 10;
    if (deferred) dom.heldUncounted++;
    st.early.push({ dom, receivedMs: nowMs, exportMs: ctx.exportMs, uptimeMs: ctx.uptimeMs, data: buf.slice(), sets, deferred });
  }

  #drainEarly(st: ExporterState, exporter: string): void {
    const learned = this.#templatesLearned;
    if (st.early.length === 0) return;
    const ctx = this.#ctx;
    ctx.exporter = exporter;
    const keep: EarlyEntry[] = [];
    for (const e of st.early) {
      if (!learned.includes(e.dom)) {
        keep.push(e);
        continue;
      }
      ctx.exportMs = e.exportMs;
      ctx.uptimeMs = e.uptimeMs;
      ctx.records = 0;
      const left: number[] = [];
      for (let i = 0; i < e.sets.length; i += 3) {
        const plan = e.dom.templates.get(e.sets[i]!);
        if (plan === undefined) left.push(e.sets[i]!, e.sets[i + 1]!, e.sets[i + 2]!);
        else this.#earlySet(st, e, plan, i, ctx);
      }
      if (e.deferred) e.dom.deferredGap -= ctx.records;
      if (left.length > 0) {
        keep.push({ ...e, sets: left });
        continue;
      }
      st.earlyDecoded++;
      if (e.deferred) settle(st, e.dom);
    }
    st.early = keep;
  }

  /** queues a buffered set; a malformed one is counted and left out, the rest goes on */
  #earlySet(st: ExporterState, e: EarlyEntry, plan: Plan, i: number, ctx: Ctx): void {
    try {
      this.#dataSet(e.dom, plan, e.data, e.sets[i + 1]!, e.sets[i + 2]!, ctx);
    } catch (err) {
      const reason = err instanceof Malformed ? err.reason : 'truncated';
      st.errors.set(reason, (st.errors.get(reason) ?? 0) + 1);
    }
  }

  #learn(st: ExporterState, dom: DomainState, def: TemplateDef, ipfix: boolean): void {
    const old = dom.templates.get(def.id);
    if (old !== undefined && sameDef(old.def, def)) return;
    if (old === undefined && st.templateCount >= this.limits.maxTemplates) throw new Malformed('template_limit');
    const plan = compileTemplate(def, ipfix);
    if (plan === null) throw new Malformed('bad_template');
    if (old === undefined) st.templateCount++;
    dom.templates.set(def.id, plan);
    this.generation++;
    if (!this.#templatesLearned.includes(dom)) this.#templatesLearned.push(dom);
  }

  #withdraw(st: ExporterState, dom: DomainState, id: number, options: boolean): void {
    const all = id === (options ? 3 : 2);
    for (const [tid, plan] of dom.templates) {
      if ((all && plan.def.options === options) || tid === id) {
        dom.templates.delete(tid);
        st.templateCount--;
        this.generation++;
      }
    }
  }

  #templates(st: ExporterState, dom: DomainState, buf: Uint8Array, off: number, end: number, options: boolean): void {
    const ipfix = dom.version === 10;
    while (end - off >= 4) {
      const id = u16(buf, off);
      if (id === 0) return; // padding
      let count: number;
      let scopeCount = 0;
      if (ipfix) {
        count = u16(buf, off + 2);
        off += 4;
        if (count === 0) {
          if (id !== (options ? 3 : 2) && id < 256) throw new Malformed('bad_template');
          this.#withdraw(st, dom, id, options);
          continue;
        }
        if (options) {
          if (end - off < 2) throw new Malformed('bad_template');
          scopeCount = u16(buf, off);
          off += 2;
          if (scopeCount === 0 || scopeCount > count) throw new Malformed('bad_template');
        }
      } else if (options) {
        if (end - off < 6) return; // padding
        const scopeLen = u16(buf, off + 2);
        const optionLen = u16(buf, off + 4);
        off += 6;
        if (scopeLen % 4 !== 0 || optionLen % 4 !== 0) throw new Malformed('bad_template');
        scopeCount = scopeLen / 4;
        count = scopeCount + optionLen / 4;
      } else {
        count = u16(buf, off + 2);
        off += 4;
      }
      if (id < 256 || count === 0) throw new Malformed('bad_template');
      const fields: TemplateField[] = [];
      for (let i = 0; i < count; i++) {
        if (end - off < 4) throw new Malformed('bad_template');
        let fid = u16(buf, off);
        const length = u16(buf, off + 2);
        off += 4;
        let enterprise = 0;
        if (ipfix && fid & 0x8000) {
          if (end - off < 4) throw new Malformed('bad_template');
          fid &= 0x7fff;
          enterprise = u32(buf, off);
          off += 4;
        }
        if (!ipfix && length === VARIABLE_LENGTH) throw new Malformed('bad_template');
        fields.push({ id: fid, length, enterprise });
      }
      this.#learn(st, dom, { id, options, scopeCount, fields }, ipfix);
    }
  }

  #dataSet(dom: DomainState, plan: Plan, buf: Uint8Array, off: number, end: number, ctx: Ctx): void {
    if (plan.def.options) {
      while (end - off >= plan.minLength) {
        off = this.#optionRecord(dom, plan, buf, off, end);
        ctx.records++;
      }
      return;
    }
    const n = countRecords(plan, buf, off, end);
    if (n < 0) throw new Malformed('truncated');
    ctx.records += n;
    if (n > 0) this.queue.add(plan, snapOf(dom), ctx.exporter, ctx.exportMs, ctx.uptimeMs, buf, off, end, n);
  }

  /** reads one options record: sampling and system init time; returns the offset after it */
  #optionRecord(dom: DomainState, plan: Plan, buf: Uint8Array, off: number, end: number): number {
    const { ops, lengths } = plan;
    let sampler = NO_SAMPLER;
    let interval = 0;
    let pInterval = 0;
    let pSpace = -1;
    let size = 0;
    let population = 0;
    let init = NaN;
    for (let i = 0; i < ops.length; i++) {
      let len = lengths[i]!;
      if (len === VARIABLE_LENGTH) [len, off] = this.#varLength(buf, off, end);
      if (off + len > end) throw new Malformed('truncated');
      switch (ops[i]!) {
        case Op.SAMPLER_ID: sampler = uint(buf, off, len); break;
        case Op.SAMPLING_INTERVAL: interval = uint(buf, off, len); break;
        case Op.PACKET_INTERVAL: pInterval = uint(buf, off, len); break;
        case Op.PACKET_SPACE: pSpace = uint(buf, off, len); break;
        case Op.SAMPLING_SIZE: size = uint(buf, off, len); break;
        case Op.SAMPLING_POPULATION: population = uint(buf, off, len); break;
        case Op.SYSTEM_INIT_MS: init = uint(buf, off, len); break;
        default: break;
      }
      off += len;
    }
    let rate = interval;
    if (rate === 0 && pInterval > 0 && pSpace >= 0) rate = (pInterval + pSpace) / pInterval;
    if (rate === 0 && size > 0 && population >= size) rate = population / size;
    if (rate >= 1) {
      rate = Math.min(Math.round(rate), 0xffff_ffff);
      if (dom.samplers.get(sampler) !== rate) {
        dom.samplers.set(sampler, rate);
        this.generation++;
        dom.defaultRate = defaultRate(dom.samplers);
        dom.snap = null;
      }
    }
    if (!Number.isNaN(init) && init !== dom.initMs) {
      dom.initMs = init;
      dom.snap = null;
    }
    return off;
  }

  #varLength(buf: Uint8Array, off: number, end: number): [number, number] {
    if (off >= end) throw new Malformed('truncated');
    const len = buf[off]!;
    if (len < 255) return [len, off + 1];
    if (off + 3 > end) throw new Malformed('truncated');
    return [u16(buf, off + 1), off + 3];
  }

  /** Templates and samplers, for persistence. */
  exportState(): FlowDecoderState {
    const templates: FlowDecoderState['templates'][number][] = [];
    const samplers: FlowDecoderState['samplers'][number][] = [];
    for (const st of this.#exporters.values()) {
      for (const d of st.domains.values()) {
        for (const plan of d.templates.values()) templates.push({ exporter: st.address, version: d.version, domain: d.domain, def: plan.def });
        for (const [sampler, rate] of d.samplers) samplers.push({ exporter: st.address, version: d.version, domain: d.domain, sampler, rate });
      }
    }
    return { templates, samplers };
  }

  /** Restores persisted state (as from JSON: malformed entries are skipped); returns the templates taken. */
  importState(state: unknown): number {
    if (typeof state !== 'object' || state === null) return 0;
    const { templates, samplers } = state as { templates?: unknown; samplers?: unknown };
    let n = 0;
    for (const t of Array.isArray(templates) ? (templates as unknown[]) : []) {
      const e = parseEntry(t);
      const def = e === null ? null : parseDef((t as { def?: unknown }).def);
      if (e === null || def === null || e.version === 5) continue;
      const st = this.#exporter(e.exporter);
      if (st === null) continue;
      this.#templatesLearned = [];
      try {
        this.#learn(st, this.#domain(st, e.version, e.domain), def, e.version === 10);
        n++;
      } catch {
        // a template over the limit, or invalid: left out
      }
    }
    for (const s of Array.isArray(samplers) ? (samplers as unknown[]) : []) {
      const e = parseEntry(s);
      const { sampler, rate } = s as { sampler?: unknown; rate?: unknown };
      if (e === null || !Number.isInteger(sampler) || !Number.isInteger(rate) || (rate as number) < 1) continue;
      const st = this.#exporter(e.exporter);
      if (st === null) continue;
      const dom = this.#domain(st, e.version, e.domain);
      dom.samplers.set(sampler as number, rate as number);
      dom.defaultRate = defaultRate(dom.samplers);
      dom.snap = null;
    }
    return n;
  }
}

/** an entry leaves the early buffer undecoded: its records will never be counted */
function evicted(e: EarlyEntry): false {
  if (e.deferred) {
    e.dom.deferredGap = NaN;
    e.dom.heldUncounted--;
    if (e.dom.heldUncounted === 0) {
      e.dom.deferredGap = 0;
      e.dom.seqKnown = false; // the next number is unknown again
    }
  }
  return false;
}

/** a held entry decoded: once none is held, what is left of the deferred gap is lost */
function settle(st: ExporterState, dom: DomainState): void {
  dom.heldUncounted--;
  if (dom.heldUncounted > 0) return;
  if (dom.deferredGap > 0) st.sequenceLost[dom.version] += dom.deferredGap;
  dom.deferredGap = 0;
}

const EMPTY_JOB: DataJob = { data: new Uint8Array(0), sets: new Float64Array(0), setCount: 0, plans: [], snaps: [], exporters: [], datagrams: 0, records: 0 };

/** the domain's sampling and time state as an immutable snapshot, made again only after a change */
function snapOf(dom: DomainState): DomainSnap {
  if (dom.snap === null) {
    const samplers: number[] = [];
    for (const [id, rate] of dom.samplers) samplers.push(id, rate);
    dom.snap = { version: dom.version, domain: dom.domain, initMs: dom.initMs, defaultRate: dom.defaultRate, samplers };
  }
  return dom.snap;
}

/** v5: the header's sampling interval is the domain's rate */
function v5Snap(dom: DomainState, rate: number): DomainSnap {
  if (dom.snap === null || dom.snap.defaultRate !== rate) dom.snap = { version: 5, domain: dom.domain, initMs: NaN, defaultRate: rate, samplers: [] };
  return dom.snap;
}

/** the rate of records naming no known sampler: the sampler-less options record's, or the only sampler's */
function defaultRate(samplers: ReadonlyMap<number, number>): number {
  const own = samplers.get(NO_SAMPLER);
  if (own !== undefined) return own;
  if (samplers.size === 1) return samplers.values().next().value ?? 1;
  return 1;
}

function parseEntry(v: unknown): { exporter: string; version: FlowVersion; domain: number } | null {
  if (typeof v !== 'object' || v === null) return null;
  const { exporter, version, domain } = v as Record<string, unknown>;
  if (typeof exporter !== 'string' || (version !== 5 && version !== 9 && version !== 10)) return null;
  if (!Number.isInteger(domain) || (domain as number) < 0 || (domain as number) > 0xffff_ffff) return null;
  return { exporter, version, domain: domain as number };
}

function isU16(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff;
}

function parseDef(v: unknown): TemplateDef | null {
  if (typeof v !== 'object' || v === null) return null;
  const { id, options, scopeCount, fields } = v as Record<string, unknown>;
  if (!isU16(id) || id < 256 || typeof options !== 'boolean' || !isU16(scopeCount) || !Array.isArray(fields)) return null;
  const out: TemplateField[] = [];
  for (const f of fields as unknown[]) {
    if (typeof f !== 'object' || f === null) return null;
    const { id: fid, length, enterprise } = f as Record<string, unknown>;
    if (!isU16(fid) || !isU16(length) || !Number.isInteger(enterprise) || (enterprise as number) < 0) return null;
    out.push({ id: fid, length, enterprise: enterprise as number });
  }
  if (out.length === 0 || scopeCount > out.length || (options && scopeCount === 0)) return null;
  return { id, options, scopeCount, fields: out };
}
