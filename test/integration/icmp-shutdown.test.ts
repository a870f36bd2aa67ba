// Shutdown under load: SIGTERM (then, with a fresh process, SIGINT) while wireprobe is probing, with
// probes in flight that cannot settle in time (a dead target with a 10 s timeout) and pcap sessions
// open. The process must handle the signal (exit code 0, not killed by it), exit within 5 s (the
// drain is bounded, and the exit is explicit because open pcap sessions keep Node alive), stop
// sending at once, and release its HTTP port.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite } from '../lab/harness.js';
import {
  deadIpv4,
  DEFAULT_PORT,
  echoProbes,
  find,
  labIpv4Targets,
  listNamespaces,
  netprobifyConfig,
  runCommand,
  sum,
  TCPDUMP,
  targetName,
  type TargetSpec,
} from '../lab/index.js';

const LIVE = 100;
const NB = 5;
const EXIT_BOUND_MS = 5000;
const STOP_SENDING_MS = 250;

const BIND_SCRIPT = `
const srv = require('node:net').createServer();
srv.on('error', (e) => { process.stderr.write(String(e.code)); process.exit(3); });
srv.listen(Number(process.argv[1]), '127.0.0.1', () => srv.close(() => process.stdout.write('bound')));
`;

function config(): string {
  const targets: Record<string, TargetSpec> = {};
  labIpv4Targets(LIVE).forEach((addr, i) => {
    targets[targetName(i + 1)] = { type: 'ICMPping', destination: addr, nb_packets: NB, timeout: 1 };
  });
  targets['dead'] = { type: 'ICMPping', destination: deadIpv4(9), nb_packets: NB, timeout: 10 };
  return netprobifyConfig({ global: { interval: 1, logging_level: 'INFO' }, targets });
}

void describe('icmp-shutdown', { timeout: 60_000 }, () => {
  const suite = labSuite('icmp-shutdown', [TCPDUMP]);

  const canBind = async (): Promise<{ ok: boolean; detail: string }> => {
    const r = await suite.lab().exec('probe', [process.execPath, '-e', BIND_SCRIPT, String(DEFAULT_PORT)], { timeoutMs: 10_000 });
    return { ok: r.code === 0 && r.stdout === 'bound', detail: `exit ${r.code} ${r.stdout}${r.stderr}` };
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    suite.test(`${signal} while probing: exit 0 within ${EXIT_BOUND_MS / 1000} s, sending stops, port released`, async (t) => {
      const lab = suite.lab();
      const before = await canBind();
      assert.ok(before.ok, `port ${DEFAULT_PORT} free before the start (${before.detail})`);
      const truth = await lab.startTruth({ filter: 'icmp' });
      const wp = await suite.start(config());

      // Probing for real: a round of every live target is done and the dead target's probes are in flight.
      const busy = await wp.waitForScrape(
        (s) =>
          sum(s, 'icmp_sent_total', { probe_name: 'itest' }) >= LIVE * NB &&
          (find(s, 'wireprobe_probes_in_flight')?.value ?? 0) >= 1,
        { timeoutMs: 20_000, what: `a round of ${LIVE} targets done and probes in flight` },
      );
      const inFlight = find(busy, 'wireprobe_probes_in_flight')?.value;

      const exitEvent = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
        wp.process.child.once('exit', (code, sig) => resolve({ code, signal: sig, at: Date.now() }));
      });
      const signalledAt = Date.now();
      // By PID; SIGKILL after the bound (then the code is 137 and the assertions below fail).
      const code = await wp.process.stop(signal, EXIT_BOUND_MS);
      const exit = await exitEvent;
      const tookMs = exit.at - signalledAt;
      t.diagnostic(`${signal}: exited ${code} after ${tookMs} ms with ${inFlight} probes in flight`);
      assert.equal(exit.signal, null, `wireprobe was killed by ${exit.signal ?? ''} instead of exiting (logs:\n${wp.logs().slice(-2000)})`);
      assert.equal(exit.code, 0, `exit code after ${signal}`);
      assert.ok(tookMs < EXIT_BOUND_MS, `exited ${tookMs} ms after ${signal} (bound ${EXIT_BOUND_MS} ms)`);
      assert.match(wp.logs(), new RegExp(`msg="shutting down" signal=${signal}`), 'the shutdown was logged with its signal');

      // Nothing of it is left: the PID is gone from the namespace and the port can be bound again.
      const pids = await runCommand(['ip', 'netns', 'pids', lab.probeNs]);
      assert.ok(!pids.stdout.split('\n').map((l) => l.trim()).includes(String(wp.process.pid)), `PID ${wp.process.pid} still in ${lab.probeNs}`);
      assert.ok(listNamespaces().includes(lab.probeNs), 'sanity: the lab namespace still exists');
      await assert.rejects(wp.fetch('/-/healthy'), 'nothing answers on the metrics port any more');
      const after = await canBind();
      assert.ok(after.ok, `port ${DEFAULT_PORT} free after the exit (${after.detail})`);

      // Sending stopped with the signal (the loop stops first; only the drain follows).
      const packets = await truth.stop();
      const requests = echoProbes(packets, truth.linkType);
      const cutoffNs = BigInt(signalledAt + STOP_SENDING_MS) * 1_000_000n;
      const late = requests.filter((p) => p.requestNs > cutoffNs);
      assert.equal(late.length, 0, `echo requests more than ${STOP_SENDING_MS} ms after ${signal}: ${late.length}`);
      assert.ok(requests.length >= LIVE * NB, `sanity: ${requests.length} requests captured before the signal`);
    });
  }
});
