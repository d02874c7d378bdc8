import { createImds } from '../aws/imds.ts';
import { ConfigError, messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import { HEADERS } from './protocol.ts';
import type { ControlSettings } from './settings.ts';

/**
 * Credentials sent with every request: a bearer token from a file only root
 * can read, and, where IMDSv2 answers, the EC2 instance identity document with
 * its PKCS7 signature, which an endpoint verifies against AWS's public
 * certificate without any shared secret.
 */
const TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]+=*$/;
const IMDS_TIMEOUT_MS = 1000;
/** After IMDS did not answer, it is asked again only after this long. */
const IMDS_RETRY_MS = 15 * 60_000;

/** The token, after checking that nobody but the owner (root or the agent's user) can read or change the file. */
export async function readToken(
  host: Host,
  path: string,
  key = 'CONTROL_TOKEN_FILE',
  holder = "the control endpoint's token",
): Promise<string> {
  const token = (await readSecretFile(host, path, key, holder)).trim();
  if (!TOKEN_PATTERN.test(token)) {
    throw new ConfigError(`${key} ${path} does not hold one bearer token (letters, digits and -._~+/ on one line)`);
  }
  return token;
}

/** A credentials file's text, after checking that nobody but its owner (root or the agent's user) can change it. */
export async function readSecretFile(host: Host, path: string, key: string, holder: string): Promise<string> {
  const info = await host.stat(path);
  if (info === null) {
    throw new ConfigError(`${key} ${path} does not exist; write ${holder} there (mode 0600, owner root)`);
  }
  if (info.kind !== 'file') throw new ConfigError(`${key} ${path} is not a regular file`);
  const owner = process.getuid?.() ?? 0;
  if ((info.mode & 0o077) !== 0 || (info.uid !== 0 && info.uid !== owner)) {
    const mode = (info.mode & 0o7777).toString(8).padStart(4, '0');
    throw new ConfigError(
      `${key} ${path} is mode ${mode} owned by uid ${info.uid}: others could read or replace it; ` +
        `fix: chown root:root ${path} && chmod 600 ${path}`,
    );
  }
  return host.readText(path);
}

export interface Identity {
  readonly instanceId: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The signed identity document from IMDSv2, read once and kept; never asked when CONTROL_IDENTITY=no. */
export class IdentitySource {
  readonly #host: Host;
  readonly #settings: ControlSettings;
  readonly #logger: Logger;
  #identity: Identity | null = null;
  #retryAt = 0;

  constructor(host: Host, settings: ControlSettings, logger: Logger) {
    this.#host = host;
    this.#settings = settings;
    this.#logger = logger;
  }

  async get(): Promise<Identity | null> {
    if (this.#settings.identity === 'no' || this.#identity !== null) return this.#identity;
    const now = this.#host.now().getTime();
    if (now < this.#retryAt) return null;
    try {
      this.#identity = await this.#read();
    } catch (error) {
      this.#retryAt = now + IMDS_RETRY_MS;
      this.#logger.debug('no instance identity for the control endpoint (not on EC2, or IMDS unreachable)', {
        reason: messageOf(error),
      });
    }
    return this.#identity;
  }

  async #read(): Promise<Identity> {
    const imds = createImds(this.#host, this.#settings.imdsEndpoint, IMDS_TIMEOUT_MS);
    const document = await imds.get('/latest/dynamic/instance-identity/document');
    const signature = (await imds.get('/latest/dynamic/instance-identity/pkcs7')).replace(/\s+/g, '');
    const { instanceId } = JSON.parse(document) as { instanceId?: unknown };
    if (typeof instanceId !== 'string' || !/^i-[0-9a-f]{8,17}$/.test(instanceId))
      throw new Error('the identity document has no valid instanceId');
    if (!/^[A-Za-z0-9+/]+=*$/.test(signature)) throw new Error('the identity signature is not base64');
    return {
      instanceId,
      headers: {
        [HEADERS.identityDocument]: Buffer.from(document, 'utf8').toString('base64'),
        [HEADERS.identitySignature]: signature,
      },
    };
  }
}
