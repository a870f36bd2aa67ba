/**
 * Prometheus HTTP SD JSON (`[{"targets": ["host:port", ...], "labels": {...}}]`) → the entry
 * document. Pure. Each target string becomes one entry: `hostname` is the string as written
 * (so one host on two ports makes two targets), `destination` the host, `dst_port` the port
 * when there is one. Labels `wireprobe_type` and `wireprobe_groups` (comma or space separated),
 * also read with the `__meta_` prefix, set `type` and `groups`; other labels are ignored.
 */
import { splitHostPort } from '../config/host-port.js';
import { InventoryError } from './types.js';
import { isObj, type Obj } from '../lib/obj.js';



function label(labels: Obj, key: string): string | undefined {
  const value = Object.hasOwn(labels, key) ? labels[key] : Object.hasOwn(labels, `__meta_${key}`) ? labels[`__meta_${key}`] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function entryOf(target: string, labels: Obj): Obj {
  const hp = splitHostPort(target);
  const entry: Obj = { hostname: target, destination: hp?.host ?? target };
  if (hp !== null && hp.port !== null) entry.dst_port = hp.port;
  const type = label(labels, 'wireprobe_type');
  if (type !== undefined) entry.type = type;
  const groups = label(labels, 'wireprobe_groups');
  if (groups !== undefined) entry.groups = groups.split(/[\s,]+/).filter((g) => g !== '');
  return entry;
}

/** Throws InventoryError(`schema`) when the body is not HTTP SD JSON. */
export function mapHttpSd(body: unknown): { targets: Obj[] } {
  const fail = (why: string): never => {
    throw new InventoryError('schema', `not Prometheus HTTP SD JSON: ${why}`);
  };
  if (!Array.isArray(body)) return fail('the body must be a JSON array of target groups');
  const targets: Obj[] = [];
  body.forEach((group: unknown, i) => {
    if (!isObj(group) || !Array.isArray(group.targets)) return fail(`group ${i} must be an object with a "targets" list`);
    const labels = group.labels ?? {};
    if (!isObj(labels) || Object.values(labels).some((v) => typeof v !== 'string')) {
      return fail(`group ${i}: "labels" must map names to strings`);
    }
    for (const target of group.targets as unknown[]) {
      if (typeof target !== 'string') return fail(`group ${i}: targets must be strings`);
      targets.push(entryOf(target, labels));
    }
  });
  return { targets };
}
