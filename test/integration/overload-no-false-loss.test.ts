// No false loss past the capture's capacity: wireprobe probes 100 ICMP targets at 10 000 probes/s
// (100 each) while two CPU hogs (started and killed here, by PID) take the CPUs, so its capture
// falls behind and drops frames. The lab loses nothing, so every probe counted lost must be lost on
// the wire: wireprobe's lost count stays inside the binomial 99 % band of the wire loss (answers
// counted in the probe namespace's prerouting hook, after the packet taps, against the requests of
// its output hook; see test/lab/overload.ts). Probes whose answers the capture may have missed are
// indeterminate, not lost. Before the fix, the drops seen by a pump were dated to its start, before
// the await in which more probes were sent: every probe sent meanwhile whose frames the ring
// dropped was counted lost (here: lost = capture drops / 2, 0 indeterminate).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite } from '../lab/harness.js';
import { runOverload } from '../lab/overload.js';

void describe('overload-no-false-loss', { timeout: 120_000 }, () => {
  const suite = labSuite('overload-no-false-loss');

  suite.test('10 000 probes/s with two CPU hogs: lost within the wire loss, the rest indeterminate', async (t) => {
    const r = await runOverload(suite.lab(), { targets: 100, rate: 10_000, hogs: 2, lossPct: 0, warmupS: 6, windowS: 8 });
    t.diagnostic(
      `wire ${r.wireRequests} requests, ${r.wireReplies} answers; wireprobe ${r.settled} settled, ${r.lost} lost, ` +
        `${r.indeterminate} indeterminate; capture ${r.captureReceived} offered, ${r.captureDrops} dropped, ${r.captureBehind} behind, ` +
        `${r.answeredAfterLoss} answers after a loss verdict`,
    );
    assert.ok(r.wireRequests > 10_000, `the wire saw ${r.wireRequests} requests`);
    assert.ok(r.settled >= 1000, `wireprobe settled ${r.settled} probes in the window`);
    assert.ok(r.inside, `lost ${r.lost} of ${r.settled}: outside the 99 % band ${r.band[0].toFixed(1)}–${r.band[1].toFixed(1)} of the wire loss ${r.wireRequests - r.wireReplies}/${r.wireRequests}`);
    assert.equal(r.answeredAfterLoss, 0, 'answers captured after their probe was counted lost');
  });
});
