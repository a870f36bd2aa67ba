/**
 * The `http-sd` plugin: GETs a Prometheus HTTP SD URL (http or https only) with the listing's
 * signal, refuses bodies over the cap while reading them, and maps the JSON to entries
 * (http-sd-map.ts).
 */
import type { ReadableStream } from 'node:stream/web';
import { errorMessage } from '../lib/errors.js';
import { parseJson } from './document.js';
import { mapHttpSd } from './http-sd-map.js';
import { InventoryError, type InventoryPlugin } from './types.js';

export interface HttpSdPluginOptions {
  readonly url: string;
  readonly maxBytes: number;
  /** sent as X-Prometheus-Refresh-Interval-Seconds, as Prometheus does */
  readonly intervalS: number;
  readonly userAgent: string;
}

async function readBody(res: Response, maxBytes: number, url: string): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  const tooBig = (): InventoryError => new InventoryError('size', `${url}: body over ${maxBytes} bytes`);
  if (res.body === null) return '';
  if (declared > maxBytes) {
    await res.body.cancel();
    throw tooBig();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooBig();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function httpSdPlugin(opts: HttpSdPluginOptions): InventoryPlugin {
  const { url } = opts;
  return {
    async list(signal) {
      const protocol = new URL(url).protocol;
      if (protocol !== 'http:' && protocol !== 'https:') throw new InventoryError('io', `${url}: only http and https URLs`);
      let res: Response;
      try {
        res = await fetch(url, {
          signal,
          headers: {
            accept: 'application/json',
            'user-agent': opts.userAgent,
            'x-prometheus-refresh-interval-seconds': String(opts.intervalS),
          },
        });
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        throw new InventoryError('io', `${url}: ${errorMessage(e)}`, { cause: e });
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new InventoryError('http', `${url}: HTTP ${res.status}`);
      }
      const text = await readBody(res, opts.maxBytes, url);
      return mapHttpSd(parseJson(text));
    },
  };
}
