// MAC vendor lookup: real entries of each block size (MA-S 36-bit, MA-M 28-bit, MA-L 24-bit) from
// the oui-data package, longest prefix first, the address flags, input forms and a data failure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAppError } from '../../../src/lib/errors.js';
import { createOuiLookup, macDigits } from '../../../src/tools/oui.js';

const code = (c: string) => (e: unknown): boolean => isAppError(e) && e.code === c;
const oui = createOuiLookup();

void describe('OUI lookup on the oui-data package', () => {
  void it('an MA-S (36-bit) block inside the IEEE Registration Authority MA-L 00:1B:C5', async () => {
    const r = await oui.lookup('00:1b:c5:00:00:2a');
    assert.deepEqual([r.block, r.prefix, r.prefix_bits, r.organization, r.country], ['MA-S', '001BC5000', 36, 'Converging Systems Inc.', 'United States']);
    const whole = await oui.lookup('00:1B:C5');
    assert.deepEqual([whole.block, whole.organization], ['MA-L', 'IEEE Registration Authority']);
  });

  void it('an MA-M (28-bit) block inside 10:06:48', async () => {
    const r = await oui.lookup('10-06-48-01-02-03');
    assert.deepEqual([r.block, r.prefix, r.prefix_bits, r.organization, r.country], ['MA-M', '1006480', 28, 'FLEXTRONICS TECHNOLOGIES (INDIA) PVT LTD', 'India']);
  });

  void it('an MA-L (24-bit) block, in every input form', async () => {
    for (const form of ['00:00:0c:12:34:56', '00-00-0C-12-34-56', '0000.0c12.3456', '00000c123456', '0:0:c:12:34:56']) {
      const r = await oui.lookup(form);
      assert.deepEqual([r.mac, r.block, r.prefix, r.organization], ['00:00:0C:12:34:56', 'MA-L', '00000C', 'Cisco Systems, Inc'], form);
    }
    assert.ok(oui.size > 50_000, `${oui.size} entries`);
  });

  void it('unassigned, locally administered and group addresses', async () => {
    const local = await oui.lookup('02:00:5e:10:00:01');
    assert.deepEqual([local.organization, local.locally_administered, local.multicast], [null, true, false]);
    const bcast = await oui.lookup('ff:ff:ff:ff:ff:ff');
    assert.deepEqual([bcast.block, bcast.multicast], [null, true]);
  });

  void it('refuses what is not a MAC address or a prefix of at least 6 digits', () => {
    for (const bad of ['', '00:1b', '00:1b:c5:00:00:00:00', 'zz:zz:zz:zz:zz:zz', '001:bc5:000', '00:1b:c5; rm -rf /', '00.1b.c5']) {
      assert.throws(() => macDigits(bad), code('TOOL_ERR_INPUT'), bad);
    }
  });
});

void it('data that cannot be loaded is TOOL_ERR_DATA, and the next lookup tries again', async () => {
  let calls = 0;
  const broken = createOuiLookup(() => {
    calls++;
    return calls === 1 ? Promise.reject(new Error('ENOENT')) : Promise.resolve('{"AABBCC": "Fixture Inc\\nSomewhere\\nNowhere"}');
  });
  await assert.rejects(broken.lookup('aa:bb:cc:00:00:01'), code('TOOL_ERR_DATA'));
  const r = await broken.lookup('aa:bb:cc:00:00:01');
  assert.deepEqual([r.organization, r.country, calls], ['Fixture Inc', 'Nowhere', 2]);
});
