/**
 * Maps key paths of the parsed data back to positions in the YAML source, and finds the
 * scalars written as floats that hold integral values (YAML `1.0`), which the JSON data
 * alone cannot tell from integers.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { Segment } from './errors.js';

export interface Position {
  /** 1-based */
  readonly line: number;
  /** 1-based */
  readonly col: number;
}

/** `key`: the mapping key of the last segment; `value`: the value it holds. */
export type Anchor = 'key' | 'value';

export interface Locator {
  /** Falls back to the deepest node found when the path leaves the document (defaults, merge keys). */
  position(segments: readonly Segment[], anchor: Anchor): Position;
  /** Whether the path is written in the document (false for values filled in by defaults). */
  has(segments: readonly Segment[]): boolean;
}

interface Step {
  readonly key: Node | null;
  readonly value: Node | null;
}

type YamlDocument = Document.Parsed;

function deref(node: unknown, doc: YamlDocument): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function childOf(node: unknown, segment: Segment, doc: YamlDocument): Step | null {
  const target = deref(node, doc);
  if (isMap(target)) {
    const pair = target.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
    return pair === undefined ? null : { key: pair.key as Node, value: pair.value as Node | null };
  }
  if (isSeq(target) && typeof segment === 'number') {
    const item = target.items[segment] as Node | undefined;
    return item === undefined ? null : { key: null, value: item };
  }
  return null;
}

export function createLocator(doc: YamlDocument, lineCounter: LineCounter): Locator {
  const at = (node: Node | null | undefined): Position | null => {
    const offset = node?.range?.[0];
    return offset === undefined ? null : lineCounter.linePos(offset);
  };
  return {
    position(segments, anchor) {
      let best = at(doc.contents) ?? { line: 1, col: 1 };
      let node: unknown = doc.contents;
      for (const [i, segment] of segments.entries()) {
        const step = childOf(node, segment, doc);
        if (step === null) return best;
        const last = i === segments.length - 1;
        const chosen = last && anchor === 'key' ? step.key ?? step.value : step.value ?? step.key;
        best = at(chosen) ?? best;
        node = step.value;
      }
      return best;
    },
    has(segments) {
      let node: unknown = doc.contents;
      for (const segment of segments) {
        const step = childOf(node, segment, doc);
        if (step === null) return false;
        node = step.value;
      }
      return true;
    },
  };
}

export interface FloatInteger {
  readonly segments: readonly Segment[];
  /** the scalar as written, e.g. `1.0` */
  readonly source: string;
}

function isFloatSyntax(source: string): boolean {
  return !/^[-+]?0x/i.test(source) && /[.eE]/.test(source);
}

/** Integral numbers written with float syntax (`1.0`, `1e3`), with their paths. */
export function findFloatIntegers(doc: YamlDocument): FloatInteger[] {
  const found: FloatInteger[] = [];
  const walk = (node: unknown, segments: Segment[]): void => {
    if (isScalar(node)) {
      const { value, source } = node;
      if (typeof value === 'number' && Number.isInteger(value) && source !== undefined && isFloatSyntax(source)) {
        found.push({ segments, source });
      }
    } else if (isMap(node)) {
      for (const pair of node.items) {
        if (isScalar(pair.key)) walk(pair.value, [...segments, String(pair.key.value)]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...segments, i]));
    }
  };
  walk(doc.contents, []);
  return found;
}
