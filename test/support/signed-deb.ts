import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A stand-in for Amazon's ecs-init .deb: a real package built with dpkg-deb,
 * signed with a throw-away gpg key, and served from a loopback HTTP server
 * laid out like the regional bucket.
 */
export interface SignedDeb {
  readonly fileName: string;
  readonly deb: Buffer;
  readonly signature: Buffer;
  /** Armored public key of the test signer. */
  readonly keyFile: string;
}

export function buildSignedEcsInitDeb(dir: string, version: string): SignedDeb {
  const tree = join(dir, 'pkg');
  mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
  mkdirSync(join(tree, 'lib/systemd/system'), { recursive: true });
  mkdirSync(join(tree, 'usr/libexec'), { recursive: true });
  writeFileSync(
    join(tree, 'DEBIAN/control'),
    `Package: amazon-ecs-init\nVersion: ${version}\nArchitecture: amd64\nMaintainer: tests ` +
      `<tests@example.invalid>\nDescription: test stand-in for ecs-init\n`,
  );
  writeFileSync(
    join(tree, 'lib/systemd/system/ecs.service'),
    '[Unit]\nDescription=Amazon ECS ' +
      '(test)\n[Service]\nExecStart=/usr/libexec/amazon-ecs-init start\n[Install]\nWantedBy=multi-user.target\n',
  );
  writeFileSync(join(tree, 'usr/libexec/amazon-ecs-init'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const fileName = `amazon-ecs-init-${version}.amd64.deb`;
  const debPath = join(dir, fileName);
  execFileSync('dpkg-deb', ['--root-owner-group', '--build', tree, debPath], { stdio: 'ignore' });
  const gnupg = join(dir, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  const gpg = (...args: string[]) =>
    execFileSync('gpg', ['--homedir', gnupg, '--batch', '--passphrase', '', '--pinentry-mode', 'loopback', ...args], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  gpg('--quick-gen-key', 'ECS Test Signer <signer@example.invalid>', 'rsa2048', 'sign', 'never');
  const keyFile = join(dir, 'signer.asc');
  writeFileSync(keyFile, gpg('--armor', '--export'));
  gpg('--armor', '--detach-sign', '--output', `${debPath}.asc`, debPath);
  return { fileName, deb: execFileSync('cat', [debPath]), signature: execFileSync('cat', [`${debPath}.asc`]), keyFile };
}

export interface BucketServer {
  readonly url: string;
  /** What the server answers, by file name; change it between requests. */
  readonly files: Map<string, Buffer>;
  close(): Promise<void>;
}

export async function serveBucket(): Promise<BucketServer> {
  const files = new Map<string, Buffer>();
  const server: Server = createServer((request, response) => {
    const body = files.get((request.url ?? '').slice(1));
    response.writeHead(body ? 200 : 404).end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
