import assert from 'node:assert/strict';
import { test } from 'node:test';

import { descriptorSink } from '../../../src/host/stdio.ts';

function recorder(): { sink: { write(data: string | Uint8Array): boolean }; data: Buffer[] } {
  const data: Buffer[] = [];
  return { sink: { write: (chunk) => data.push(Buffer.from(chunk)) > 0 }, data };
}

test('a descriptor sink writes everything to the descriptor, across partial writes, without making a stream', () => {
  const written: Buffer[] = [];
  let streams = 0;
  // At most 3 bytes a call, as a pipe may take less than asked.
  const sink = descriptorSink(
    7,
    () => (streams++, recorder().sink),
    (fd, data) => {
      assert.equal(fd, 7);
      written.push(Buffer.from(data.subarray(0, 3)));
      return Math.min(3, data.length);
    },
  );
  sink.write('héllo ');
  sink.write('wörld\n');
  assert.equal(Buffer.concat(written).toString(), 'héllo wörld\n');
  assert.equal(streams, 0);
});

test(
  'a descriptor that cannot take more now (EAGAIN) hands the rest and all later writes to the ' + 'stream, in order',
  () => {
    const written: Buffer[] = [];
    const queued = recorder();
    let calls = 0;
    const sink = descriptorSink(
      1,
      () => queued.sink,
      (_fd, data) => {
        if (++calls > 1)
          throw Object.assign(new Error('EAGAIN: resource temporarily unavailable, write'), { code: 'EAGAIN' });
        written.push(Buffer.from(data.subarray(0, 2)));
        return 2;
      },
    );
    sink.write('€uro\n'); // the first write stops inside the euro sign's three bytes
    sink.write('next\n');
    assert.equal(Buffer.concat([...written, ...queued.data]).toString(), '€uro\nnext\n');
    assert.equal(calls, 2, 'the descriptor is not tried again once the stream queues');
  },
);

test('other write errors (EPIPE: the reader went away) reach the caller', () => {
  const sink = descriptorSink(
    1,
    () => recorder().sink,
    () => {
      throw Object.assign(new Error('EPIPE: broken pipe, write'), { code: 'EPIPE' });
    },
  );
  assert.throws(() => sink.write('x\n'), /EPIPE/);
});
