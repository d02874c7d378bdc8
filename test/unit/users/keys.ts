import { generateKeyPairSync } from 'node:crypto';

/** Real public keys in authorized_keys form, built with node:crypto (no ssh-keygen in unit tests). */
function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function mpint(data: Buffer): Buffer {
  return sshString(data[0] !== undefined && data[0] & 0x80 ? Buffer.concat([Buffer.from([0]), data]) : data);
}

function line(type: string, parts: readonly Buffer[], comment: string): string {
  return `${type} ${Buffer.concat([sshString(type), ...parts]).toString('base64')} ${comment}`.trim();
}

export function ed25519Key(comment = 'user@host'): string {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  return line('ssh-ed25519', [sshString(Buffer.from(jwk.x as string, 'base64url'))], comment);
}

export function rsaKey(bits: number, comment = 'user@host'): string {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' });
  return line(
    'ssh-rsa',
    [mpint(Buffer.from(jwk.e as string, 'base64url')), mpint(Buffer.from(jwk.n as string, 'base64url'))],
    comment,
  );
}

export function ecdsaKey(comment = 'user@host'): string {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x as string, 'base64url'),
    Buffer.from(jwk.y as string, 'base64url'),
  ]);
  return line('ecdsa-sha2-nistp256', [sshString('nistp256'), sshString(point)], comment);
}

/** A key line whose body is `type` followed by arbitrary wire-format fields. */
export function craftedKey(type: string, ...fields: (Buffer | string)[]): string {
  return line(type, fields.map(sshString), '');
}
