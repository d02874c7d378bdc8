import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';

import { createLogger } from '../../../src/core/logger.ts';

test('the level can change while the logger runs: records below it are dropped from then on', () => {
  const lines: string[] = [];
  const stream = new Writable({
    write: (chunk, _encoding, done) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'info', journald: false, stream });
  logger.debug('hidden at info');
  logger.info('shown at info', { task: 'metrics' });
  logger.setLevel('debug');
  logger.debug('shown at debug');
  logger.setLevel('error');
  logger.warn('hidden at error');
  logger.error('shown at error');
  assert.deepEqual(lines, ['info: shown at info (task=metrics)', 'debug: shown at debug', 'error: shown at error']);
});
