import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readHostId } from '../../../src/control/status.ts';
import { FakeHost } from '../../support/fake-host.ts';

test("the host id is /etc/machine-id, or the Host's host name made safe where there is no valid one", async () => {
  const host = new FakeHost({ '/etc/machine-id': '0123456789abcdef0123456789abcdef\n' });
  assert.equal(await readHostId(host), '0123456789abcdef0123456789abcdef');
  host.putFile('/etc/machine-id', 'uninitialized\n');
  host.hostName = 'ip-10-0-1-23.ec2.internal';
  assert.equal(await readHostId(host), 'ip-10-0-1-23.ec2.internal');
  await host.rm('/etc/machine-id');
  host.hostName = 'odd host/name';
  assert.equal(await readHostId(host), 'odd-host-name');
  host.hostName = '';
  assert.equal(await readHostId(host), 'unknown-host');
});
