/**
 * The yaml package's parseDocument(), with the syntax tree (CST) of the first document composed
 * while it is parsed instead of once it is whole. parseDocument() builds the CST of the whole
 * document before composing it: at 10 000 targets that tree is ~40 MB of heap next to the ~17 MB
 * Document, both in the old generation, and V8 does not collect the tree before the rest of the
 * load stacks on it (bench/README.md, "Config-load peak"). Here the composer asks for the items
 * of each block mapping and sequence one at a time, the parser is fed lexemes until that item is
 * final, and the item's tokens are dropped once the composer has moved on: the tree is never
 * whole, and most of it dies young.
 *
 * Same Document, errors and warnings as parseDocument() (the composer is the package's own; only
 * the order in which it sees the tokens changes). An item is final once the next item of its
 * collection has begun (a key, separator or value: the parser still moves trailing comment lines
 * into the item before, while the next has only those) or the collection is done; the item
 * whose value is a block collection still being parsed is handed over with that value, itself
 * read the same way. This leans on how the package's Parser edits items and how its Composer
 * reads them (yaml 2.9); test/unit/config/yaml-stream.test.ts compares the result with
 * parseDocument()'s on the parser's corner cases, and is what an upgrade of the package must pass.
 */
import { Composer, Lexer, LineCounter, Parser, YAMLParseError, type CST, type Document, type DocumentOptions, type ParseOptions, type SchemaOptions } from 'yaml';

export type YamlOptions = ParseOptions & DocumentOptions & SchemaOptions;

export interface ParsedYaml {
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

type Block = CST.BlockMap | CST.BlockSequence;
type Item = CST.CollectionItem;

interface Feed {
  readonly parser: Parser;
  /** top-level tokens the parser has finished, in order, not yet given to the composer */
  readonly queue: CST.Token[];
  /** feeds the parser one more lexeme (or the end of input); false once all is read */
  step(): boolean;
}

function isBlock(token: CST.Token | null | undefined): token is Block {
  return token?.type === 'block-map' || token?.type === 'block-seq';
}

function begun(item: Item | undefined): boolean {
  return item !== undefined && (item.key !== undefined || item.sep !== undefined || item.value !== undefined);
}

/** The block collection the parser is building as the value of `coll`'s last item, if any. */
function openValue(feed: Feed, coll: Block): Block | undefined {
  const { stack } = feed.parser;
  const at = stack.indexOf(coll);
  const child = at < 0 ? undefined : stack[at + 1];
  const last = coll.items[coll.items.length - 1];
  if (!isBlock(child) || last === undefined || last.value !== undefined) return undefined;
  // in a mapping, the value comes after the separator (without it, the open collection is an explicit key)
  return coll.type === 'block-seq' || last.sep !== undefined ? child : undefined;
}

/** Item `i` of `coll` can be composed: final, or the last one with its value still open. */
function ready(feed: Feed, coll: Block, i: number): boolean {
  if (!feed.parser.stack.includes(coll)) return true;
  // the parser changes only the last two items
  const last = coll.items.length - 1;
  if (i < last - 1) return true;
  if (i === last - 1) return begun(coll.items[last]) || openValue(feed, coll) !== undefined;
  return i === last && openValue(feed, coll) !== undefined;
}

/**
 * `coll` as the composer reads it: the same token whose items come one at a time (the composer
 * only iterates them, in order), each dropped from the tree once the next is asked for.
 */
function lazy(feed: Feed, coll: Block, onDone?: () => void): Block {
  function* items(): Generator<Item> {
    for (let i = 0; ; i++) {
      while (!ready(feed, coll, i) && feed.step());
      if (i > 0) coll.items[i - 1] = { start: [] };
      if (i >= coll.items.length) break;
      const item = coll.items[i]!;
      const open = i === coll.items.length - 1 ? openValue(feed, coll) : undefined;
      yield { ...item, key: wrap(feed, item.key), value: open === undefined ? wrap(feed, item.value) : lazy(feed, open) } as Item;
    }
    onDone?.();
  }
  // the composer's for…of over `items` is all it does with them
  return { ...coll, items: { [Symbol.iterator]: items } as unknown as Block['items'] } as Block;
}

function wrap<T extends CST.Token | null | undefined>(feed: Feed, token: T): T {
  return (isBlock(token) ? lazy(feed, token) : token) as T;
}

/**
 * The top-level tokens for the composer: the first document that holds a block collection is
 * handed over as soon as that collection has begun, the parser's own token of it skipped later.
 */
function* tokens(feed: Feed): Generator<CST.Token> {
  let streamed: CST.Document | undefined;
  for (;;) {
    const token = feed.queue.shift();
    if (token !== undefined) {
      if (token !== streamed) yield token;
      continue;
    }
    const [doc, root] = feed.parser.stack;
    if (streamed === undefined && doc?.type === 'document' && isBlock(root)) {
      streamed = doc;
      const end: CST.SourceToken[] = [];
      const done = (): void => {
        // the document's trailing tokens: the parser hands the document over once it is complete
        while (!feed.queue.includes(doc) && feed.step());
        end.push(...(doc.end ?? []));
      };
      yield { type: 'document', offset: doc.offset, start: doc.start, value: lazy(feed, root, done), end };
      continue;
    }
    if (!feed.step() && feed.queue.length === 0) return;
  }
}

/** The first document, as parseDocument() composes it (`forceDoc`: there is always one). */
function compose(text: string, options: YamlOptions, feed: Feed): Document.Parsed {
  const docs = new Composer(options).compose(tokens(feed), true, text.length);
  const doc = docs.next().value as Document.Parsed;
  const second = docs.next();
  if (second.done !== true) {
    // as parseDocument() reports it
    doc.errors.push(new YAMLParseError([second.value.range[0], second.value.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
  }
  return doc;
}

export function parseYamlDocument(text: string, options: YamlOptions): ParsedYaml {
  const lineCounter = new LineCounter();
  const parser = new Parser(lineCounter.addNewLine);
  const lexemes = new Lexer().lex(text);
  const queue: CST.Token[] = [];
  let ended = false;
  const feed: Feed = {
    parser,
    queue,
    step() {
      if (ended) return false;
      const lexeme = lexemes.next();
      if (lexeme.done === true) {
        ended = true;
        queue.push(...parser.end());
        return false;
      }
      for (const token of parser.next(lexeme.value)) queue.push(token);
      return true;
    },
  };
  // as Parser.parse() does
  lineCounter.addNewLine(0);
  return { doc: compose(text, options, feed), lineCounter };
}
