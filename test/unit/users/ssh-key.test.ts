import assert from 'node:assert/strict';
import { test } from 'node:test';

import { KeyProblem, parseSshKey } from '../../../src/concerns/users/ssh-key.ts';
import { craftedKey, ecdsaKey, ed25519Key, rsaKey } from './keys.ts';

test('ed25519, RSA and ECDSA keys are accepted and written back as "type body comment"', () => {
  for (const key of [ed25519Key(), rsaKey(2048), ecdsaKey()]) assert.equal(parseSshKey(key), key);
  const key = ed25519Key('');
  assert.equal(parseSshKey(`  ${key}\t  alice  at   laptop `), `${key} alice at laptop`, 'whitespace normalised');
  assert.equal(parseSshKey(key), key, 'no comment is fine');
});

test('keys that are not what they claim, or too weak, are rejected', () => {
  const rejects = (key: string, message: RegExp) =>
    assert.throws(
      () => parseSshKey(key),
      (error: Error) => error instanceof KeyProblem && message.test(error.message),
    );
  rejects(rsaKey(1024), /is an RSA key of 1024 bits; at least 2048 are required/);
  rejects(craftedKey('ssh-ed25519', Buffer.alloc(31)), /a ssh-ed25519 key is 32 bytes/);
  rejects(craftedKey('ssh-ed25519', Buffer.alloc(32), 'extra'), /trailing data after the key/);
  rejects(craftedKey('ecdsa-sha2-nistp256', 'nistp384', Buffer.alloc(65)), /the curve is not nistp256/);
  rejects(`ssh-ed25519 ${Buffer.from([0, 0, 0, 99]).toString('base64')}`, /the key body is truncated/);
  rejects(`ssh-ed25519 ${ed25519Key().split(' ')[1]?.slice(0, -4)}`, /does not parse/);
  rejects('', /has unknown key type ""/);
  rejects(`${ed25519Key()} \x1b[2J`, /has control characters in its comment/);
  rejects(`restrict ${ed25519Key()}`, /has key options \("restrict"\)/);
  rejects(`cert-authority ${ed25519Key()}`, /has key options/);
  rejects(`ssh-ed25519-cert-v01@openssh.com ${ed25519Key().split(' ')[1]}`, /has unknown key type/);
});
