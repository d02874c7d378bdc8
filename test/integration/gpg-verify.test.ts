import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { AMAZON_ECS_FINGERPRINT, verifyDetachedSignature } from '../../src/concerns/ecs/gpg.ts';
import { RealHost } from '../../src/host/real-host.ts';
import { scratchDir } from '../support/scratch.ts';
import { buildSignedEcsInitDeb } from '../support/signed-deb.ts';

const SHIPPED_KEY = fileURLToPath(new URL('../../packaging/keys/amazon-ecs-agent.asc', import.meta.url));
const host = new RealHost('/');

function fixture(t: Parameters<typeof scratchDir>[0]) {
  const dir = scratchDir(t);
  const deb = buildSignedEcsInitDeb(dir, '1.0.0-1');
  const data = `${dir}/${deb.fileName}`;
  const home = (name: string) => {
    const path = `${dir}/${name}`;
    mkdirSync(path, { mode: 0o700 });
    return path;
  };
  return { dir, deb, data, signature: `${data}.asc`, home };
}

test('a .deb signed by the trusted key verifies, and the signer is reported', async (t) => {
  const f = fixture(t);
  const signer = await verifyDetachedSignature(host, {
    keyFile: f.deb.keyFile,
    signatureFile: f.signature,
    dataFile: f.data,
    gnupgHome: f.home('h1'),
  });
  assert.match(signer, /^[0-9A-F]{40}$/);
});

test('a tampered .deb is refused', async (t) => {
  const f = fixture(t);
  const tampered = Buffer.from(f.deb.deb);
  tampered[200] = (tampered[200] ?? 0) ^ 1;
  writeFileSync(f.data, tampered);
  await assert.rejects(
    verifyDetachedSignature(host, {
      keyFile: f.deb.keyFile,
      signatureFile: f.signature,
      dataFile: f.data,
      gnupgHome: f.home('h2'),
    }),
    {
      name: 'SignatureError',
      message: /bad or missing signature on .*amazon-ecs-init-1\.0\.0-1\.amd64\.deb: .*BAD signature/,
    },
  );
});

test('a missing or garbage signature is refused', async (t) => {
  const f = fixture(t);
  writeFileSync(f.signature, 'not a signature');
  await assert.rejects(
    verifyDetachedSignature(host, {
      keyFile: f.deb.keyFile,
      signatureFile: f.signature,
      dataFile: f.data,
      gnupgHome: f.home('h3'),
    }),
    { name: 'SignatureError', message: /bad or missing signature/ },
  );
});

test(
  'the shipped Amazon ECS key is the expected key, and a package signed by anyone else is refused ' + 'with it',
  async (t) => {
    const f = fixture(t);
    await assert.rejects(
      verifyDetachedSignature(host, {
        keyFile: SHIPPED_KEY,
        signatureFile: f.signature,
        dataFile: f.data,
        gnupgHome: f.home('h4'),
        expectedFingerprint: AMAZON_ECS_FINGERPRINT,
      }),
      { name: 'SignatureError', message: /bad or missing signature/ },
    );
  },
);

test('a key file that is not the expected key is refused before any verification', async (t) => {
  const f = fixture(t);
  await assert.rejects(
    verifyDetachedSignature(host, {
      keyFile: f.deb.keyFile,
      signatureFile: f.signature,
      dataFile: f.data,
      gnupgHome: f.home('h5'),
      expectedFingerprint: AMAZON_ECS_FINGERPRINT,
    }),
    { name: 'SignatureError', message: new RegExp(`is not the expected key ${AMAZON_ECS_FINGERPRINT}`) },
  );
});
