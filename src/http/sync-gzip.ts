/**
 * gzip on the calling thread: one zlib stream for a whole response, fed synchronously.
 *
 * zlib's stream API (`createGzip`) runs each write on the libuv thread pool and comes back to the
 * event loop once per write and once per 16 KB of output; for the 35 MB of a 10 000-target scrape
 * that hand-off cost more CPU than the deflate itself (bench/README.md, "Scrape gzip"). Node.js has
 * no public synchronous API that keeps one stream across calls (`deflateSync` and `_processChunk`
 * close their stream after one buffer), so this drives the stream's native handle the way
 * `_processChunk` does: `_handle.writeSync` with the results in `_writeState`. Both have been
 * unchanged since Node.js 10; the constructor checks they are there.
 */
import { constants, createGzip, type Gzip } from 'node:zlib';
import { AppError, ErrorCodes } from '../lib/errors.js';

/** the native zlib handle of a zlib stream (node/src/node_zlib.cc) */
interface ZlibHandle {
  /** deflates; leaves [avail_out, avail_in] after the call in the stream's `_writeState` */
  writeSync(flush: number, input: Uint8Array, inOffset: number, inLength: number, output: Uint8Array, outOffset: number, outLength: number): void;
}

interface ZlibInternals {
  readonly _handle?: ZlibHandle | null;
  readonly _writeState?: unknown;
}

/** output is handed on in buffers of this size, so a scrape makes few writes to the socket */
const OUT_BYTES = 64 * 1024;

export class SyncGzip {
  readonly #stream: Gzip;
  readonly #handle: ZlibHandle;
  /** [avail_out, avail_in] after the last writeSync */
  readonly #state: Uint32Array;
  readonly #sink: (bytes: Buffer) => void;
  #out = Buffer.allocUnsafe(OUT_BYTES);
  #outOffset = 0;
  #closed = false;

  /** compressed bytes go to `sink`, in pieces of up to 64 KB, each handed on once and not touched again */
  constructor(level: number, sink: (bytes: Buffer) => void) {
    this.#stream = createGzip({ level });
    const internals = this.#stream as unknown as ZlibInternals;
    const handle = internals._handle;
    const state = internals._writeState;
    if (handle == null || typeof handle.writeSync !== 'function' || !(state instanceof Uint32Array)) {
      this.#stream.close();
      throw new AppError(ErrorCodes.MET_ERR_GZIP, `this Node.js ${process.version} has no zlib stream handle to gzip with`);
    }
    this.#handle = handle;
    this.#state = state;
    this.#sink = sink;
    // zlib reports an error by destroying the stream with it within writeSync (#deflate reads it
    // from `errored`); the stream then emits it as 'error' on the next tick, with no one to catch it
    this.#stream.on('error', () => undefined);
  }

  /** compresses `input`; `input` may be reused once this returns */
  write(input: Uint8Array): void {
    this.#deflate(input, constants.Z_NO_FLUSH);
  }

  /** ends the gzip stream (hands on the last bytes) and frees zlib's memory */
  end(): void {
    this.#deflate(new Uint8Array(0), constants.Z_FINISH);
    if (this.#outOffset > 0) this.#sink(this.#out.subarray(0, this.#outOffset));
    this.close();
  }

  /** frees zlib's memory without ending the stream (the response was abandoned) */
  close(): void {
    this.#closed = true;
    this.#stream.close();
  }

  #deflate(input: Uint8Array, flush: number): void {
    // the native handle's memory is freed on close: a write then would abort the process
    if (this.#closed) throw new AppError(ErrorCodes.MET_ERR_GZIP, 'gzip: write after the stream was ended or closed');
    let inOffset = 0;
    let inLength = input.length;
    for (;;) {
      const room = this.#out.length - this.#outOffset;
      this.#handle.writeSync(flush, input, inOffset, inLength, this.#out, this.#outOffset, room);
      const error = this.#stream.errored;
      if (error !== null) {
        this.#closed = true;
        throw new AppError(ErrorCodes.MET_ERR_GZIP, `gzip: ${error.message}`, { cause: error });
      }
      const availOut = this.#state[0] ?? 0;
      const availIn = this.#state[1] ?? 0;
      this.#outOffset += room - availOut;
      inOffset += inLength - availIn;
      inLength = availIn;
      if (availOut > 0) return;
      // the output buffer is full: hand it on, and deflate on into a fresh one
      this.#sink(this.#out);
      this.#out = Buffer.allocUnsafe(OUT_BYTES);
      this.#outOffset = 0;
    }
  }
}
