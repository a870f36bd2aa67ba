/**
 * Rogue DHCP server detection. Each run broadcasts one DHCPDISCOVER (from 0.0.0.0, BROADCAST
 * flag set, a fresh transaction id) out of the configured interface, captures every DHCPOFFER
 * for it during `window` seconds, and reports each responding server and how many of them are
 * outside the allowed set. It never sends a DHCPREQUEST (no lease is taken) and never binds
 * UDP port 68 (offers are read from a pcap capture), so a DHCP client on the host keeps working.
 *
 * Reasons: rogue_server, no_offer, too_few_servers, interface_missing, interface_down,
 * unsupported_interface, permission_denied, capture_failed, send_failed, timeout.
 */
import { randomInt } from 'node:crypto';
import type { CheckInstanceConfig } from '../config/types.js';
import type { Clock } from '../lib/clock.js';
import { AppError, ErrorCodes, isAppError } from '../lib/errors.js';
import type { HostCapture } from '../net/types.js';
import { buildDhcpDiscover, DHCP_CAPTURE_FILTER, formatMac } from '../packet/dhcp.js';
import { createOfferCollector, dhcpMetricSpecs, evaluateOffers, type OfferPolicy } from './dhcp-offers.js';
import type { CheckDeps, CheckInstance, CheckKind, CheckResult } from './types.js';

/** One `checks.dhcp[]` entry, as validated and defaulted by `#/$defs/check_dhcp`. */
export interface DhcpCheckOptions extends CheckInstanceConfig {
  readonly interface: string;
  /** seconds to collect offers after the DISCOVER; less than `timeout` */
  readonly window: number;
  readonly allowed_servers: readonly string[];
  readonly allowed_macs: readonly string[];
  readonly min_servers: number;
  readonly max_servers_reported: number;
}

/** Option 60 of our DISCOVERs, so server logs show who asked. */
const VENDOR_CLASS = 'wireprobe';

const REASON_BY_CODE: Partial<Record<string, string>> = {
  [ErrorCodes.NET_ERR_NO_INTERFACE]: 'interface_missing',
  [ErrorCodes.NET_ERR_INTERFACE_DOWN]: 'interface_down',
  [ErrorCodes.NET_ERR_PERMISSION]: 'permission_denied',
  [ErrorCodes.NET_ERR_CAPTURE]: 'capture_failed',
  [ErrorCodes.NET_ERR_SEND]: 'send_failed',
};

/** Failures of the environment become results; anything else is a bug and propagates. */
function failureOf(e: unknown): CheckResult {
  const reason = isAppError(e) ? REASON_BY_CODE[e.code] : undefined;
  if (reason === undefined || !(e instanceof Error)) throw e;
  return { ok: false, reason, message: e.message, samples: [] };
}

/** Resolves true after `ms`, false as soon as `signal` aborts. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function policyOf(o: DhcpCheckOptions): OfferPolicy {
  return {
    iface: o.interface,
    allowedServers: new Set(o.allowed_servers),
    allowedMacs: new Set(o.allowed_macs.map((m) => m.toLowerCase())),
    minServers: o.min_servers,
    maxReported: o.max_servers_reported,
  };
}

function create(o: DhcpCheckOptions, deps: CheckDeps): CheckInstance {
  if (!(o.window < o.timeout)) {
    throw new AppError(ErrorCodes.CFG_ERR_INVALID, `checks.dhcp ${o.name}: window (${o.window} s) must be less than timeout (${o.timeout} s)`);
  }
  const policy = policyOf(o);
  const log = deps.log.child('check-dhcp');
  const iface = o.interface;

  const run = async (signal: AbortSignal): Promise<CheckResult> => {
    let info;
    try {
      info = await deps.hostIo.interfaceInfo(iface);
    } catch (e) {
      return failureOf(e);
    }
    if (!info.up) return { ok: false, reason: 'interface_down', message: `interface ${iface} is down`, samples: [] };
    if (info.mac.length !== 6) {
      return { ok: false, reason: 'unsupported_interface', message: `interface ${iface} has no Ethernet address`, samples: [] };
    }
    const xid = randomInt(1, 0x1_0000_0000);
    const chaddr = formatMac(info.mac);
    const collector = createOfferCollector(xid, chaddr);
    let capture: HostCapture | undefined;
    let completed: boolean;
    try {
      const c = deps.hostIo.capture(iface, DHCP_CAPTURE_FILTER, (tsNs, frame) => collector.onFrame(tsNs, frame, c.linkType));
      capture = c;
      deps.hostIo.sendBroadcast(iface, buildDhcpDiscover({ xid, mac: info.mac, vendorClass: VENDOR_CLASS }));
      completed = await sleep(deps.clock, o.window * 1000, signal);
    } catch (e) {
      return failureOf(e);
    } finally {
      capture?.close();
    }
    if (collector.malformed > 0) log.debug('malformed DHCP frames ignored', { check: o.name, count: collector.malformed });
    if (!completed) return { ok: false, reason: 'timeout', message: `aborted before the ${o.window} s offer window ended`, samples: [] };
    return evaluateOffers(collector.offers, collector.discoverNs, policy);
  };

  return { run: (ctx) => run(ctx.signal) };
}

export const dhcpCheck: CheckKind<DhcpCheckOptions> = {
  kind: 'dhcp',
  metrics: dhcpMetricSpecs,
  create,
};
