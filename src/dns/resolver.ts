/**
 * Hostname resolution, asynchronous and bounded: the probing loop never waits for it.
 * getaddrinfo runs in libuv's thread pool; a lookup that outlives `timeoutMs` counts as failed.
 */
import { lookup as dnsLookup, resolveTxt, reverse } from 'node:dns/promises';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';

export type LookupFn = (host: string, family: 4 | 6) => Promise<string>;

export const systemLookup: LookupFn = async (host, family) => (await dnsLookup(host, { family, verbatim: true })).address;

/** The first PTR name of an address, or null (unbounded: callers bound it). */
export const systemReverse = async (address: string): Promise<string | null> => (await reverse(address))[0] ?? null;

/** TXT records of a name, each as its chunks (unbounded: callers bound it). */
export const systemTxt = (name: string): Promise<string[][]> => resolveTxt(name);

export function createResolver(lookup: LookupFn, timeoutMs: number): LookupFn {
  return async (host, family) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AppError(ErrorCodes.DNS_ERR_RESOLVE, `resolving ${host}: no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([lookup(host, family), timeout]);
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError(ErrorCodes.DNS_ERR_RESOLVE, `resolving ${host}: ${errorMessage(e)}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  };
}
