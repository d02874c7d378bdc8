import { escapeControls } from '../../core/config/text.ts';
import { USERS } from './settings.ts';

/**
 * One SSH public key as an authorized_keys line, parsed and written back as
 * exactly "type base64 comment". Anything sshd would read as more than a key
 * (options such as command= or from=, a second line) is rejected rather than
 * cleaned up, so what the operator sees in the source is what grants access.
 */
export class KeyProblem extends Error {}

type BlobShape = readonly ('string' | 'mpint' | { readonly bytes: number } | { readonly equals: string })[];

const KEY_TYPES: Readonly<Record<string, BlobShape>> = {
  'ssh-ed25519': [{ bytes: 32 }],
  'sk-ssh-ed25519@openssh.com': [{ bytes: 32 }, 'string'],
  'ssh-rsa': ['mpint', 'mpint'],
  'ecdsa-sha2-nistp256': [{ equals: 'nistp256' }, 'string'],
  'ecdsa-sha2-nistp384': [{ equals: 'nistp384' }, 'string'],
  'ecdsa-sha2-nistp521': [{ equals: 'nistp521' }, 'string'],
  'sk-ecdsa-sha2-nistp256@openssh.com': [{ equals: 'nistp256' }, 'string', 'string'],
};

const MIN_RSA_BITS = 2048;
/** What sshd would read as options before the key type: name=value pairs and flags. */
const OPTIONS = /=|^(restrict|cert-authority|no-[a-z-]+|permit[a-z-]*)(,|$)/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The canonical line for `raw`, or a KeyProblem saying what is wrong. */
export function parseSshKey(raw: string): string {
  if (/[\n\r\0]/.test(raw)) throw new KeyProblem('contains a newline, carriage return or NUL');
  if (Buffer.byteLength(raw) > USERS.maxKeyBytes) throw new KeyProblem(`is longer than ${USERS.maxKeyBytes} bytes`);
  const [type = '', body = '', ...comment] = raw.trim().split(/[ \t]+/);
  if (!(type in KEY_TYPES)) {
    if (OPTIONS.test(type)) {
      throw new KeyProblem(
        `has key options (${JSON.stringify(type.slice(0, 40))}); ` +
          'options such as command=, from= or environment= are not allowed',
      );
    }
    throw new KeyProblem(
      `has unknown key type ${JSON.stringify(type.slice(0, 40))}; allowed: ${Object.keys(KEY_TYPES).join(', ')}`,
    );
  }
  checkBlob(type, body);
  const text = comment.join(' ');
  if (/[\x00-\x1f\x7f]/.test(text)) throw new KeyProblem('has control characters in its comment');
  return text ? `${type} ${body} ${text}` : `${type} ${body}`;
}

function checkBlob(type: string, body: string): void {
  const blob = Buffer.from(body, 'base64');
  if (!BASE64.test(body) || blob.toString('base64') !== body)
    throw new KeyProblem('does not parse: the key body is not base64');
  const reader = new BlobReader(blob);
  if (reader.string().toString('latin1') !== type)
    throw new KeyProblem(`does not parse: the key body is not a ${type} key`);
  for (const field of KEY_TYPES[type] as BlobShape) {
    const value = reader.string();
    if (typeof field === 'object' && 'bytes' in field && value.length !== field.bytes)
      throw new KeyProblem(`does not parse: a ${type} key is ${field.bytes} bytes`);
    if (typeof field === 'object' && 'equals' in field && value.toString('latin1') !== field.equals)
      throw new KeyProblem(`does not parse: the curve is not ${field.equals}`);
  }
  if (!reader.done()) throw new KeyProblem('does not parse: trailing data after the key');
  if (type === 'ssh-rsa') checkRsaSize(blob);
}

function checkRsaSize(blob: Buffer): void {
  const reader = new BlobReader(blob);
  reader.string();
  reader.string();
  const modulus = reader.string();
  const bits = (modulus.length - (modulus[0] === 0 ? 1 : 0)) * 8;
  if (bits < MIN_RSA_BITS) throw new KeyProblem(`is an RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are required`);
}

/** The wire format's length-prefixed strings (RFC 4251 §5). */
class BlobReader {
  readonly #blob: Buffer;
  #offset = 0;

  constructor(blob: Buffer) {
    this.#blob = blob;
  }

  string(): Buffer {
    if (this.#offset + 4 > this.#blob.length) throw new KeyProblem('does not parse: the key body is truncated');
    const length = this.#blob.readUInt32BE(this.#offset);
    const start = this.#offset + 4;
    if (start + length > this.#blob.length) throw new KeyProblem('does not parse: the key body is truncated');
    this.#offset = start + length;
    return this.#blob.subarray(start, start + length);
  }

  done(): boolean {
    return this.#offset === this.#blob.length;
  }
}

/**
 * An authorized_keys line as plan shows it: the key by its fingerprint, as `ssh-keygen -l` prints it, instead of
 * hundreds of base64 characters; any other line (the header, one written by hand) as it is, controls escaped.
 */
export function shownKeyLine(line: string): string {
  const [type = '', body = '', ...comment] = line.split(' ');
  if (!(type in KEY_TYPES) || !BASE64.test(body)) return escapeControls(line);
  // node:crypto (and node:stream with it) loads at the first key shown: a sync with nothing to do shows none.
  const hash = process.getBuiltinModule('node:crypto').createHash('sha256');
  const fingerprint = hash.update(Buffer.from(body, 'base64')).digest('base64').replace(/=+$/, '');
  return escapeControls([type, `SHA256:${fingerprint}`, ...comment].join(' '));
}
