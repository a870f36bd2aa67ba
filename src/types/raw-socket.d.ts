// Minimal typings for the parts of raw-socket@1.8 that src/net/raw-transport.ts uses.
declare module 'raw-socket' {
  import type { EventEmitter } from 'node:events';
  export interface SocketWrap {
    /** synchronous sendto(); calls cb(bytes) before returning; throws on error */
    send(buf: Buffer, offset: number, length: number, address: string, cb: (bytes: number) => void): void;
  }
  export interface Socket extends EventEmitter {
    readonly wrap: SocketWrap;
    setOption(level: number, option: number, value: number | Buffer, length?: number): void;
    pauseRecv(): Socket;
    close(): Socket;
  }
  export interface CreateOptions {
    protocol?: number;
    addressFamily?: number;
    bufferSize?: number;
  }
  const raw: {
    createSocket(options: CreateOptions): Socket;
    AddressFamily: { IPv4: number; IPv6: number };
  };
  export default raw;
}
