import { createHash, timingSafeEqual } from 'node:crypto';

import bcrypt from 'bcryptjs';

/**
 * HTTP basic auth against the bcrypt hashes of a web config's basic_auth_users. bcrypt comes from bcryptjs
 * (bcrypt in plain JavaScript: node:crypto has no bcrypt, and a native addon would have to be built for every
 * platform the packages serve); this module is loaded only when there are users. A check costs tens of milliseconds
 * of CPU on
 * purpose; a scraper comes every 15 to 60 s with the same credentials, so a check that succeeded is remembered
 * (by a SHA-256 of user, password and hash, as the exporters cache) and costs nothing the next time. Checks run
 * one at a time; while a few wait, further requests are turned away (429), so that passwords sent in bulk cannot
 * take the host's CPU. An unknown user is checked against a dummy hash: the time does not tell which users exist.
 */
export type AuthVerdict = 'ok' | 'denied' | 'busy';

/** A bcrypt hash (cost 10, as the users' should be) of something no password is. */
const DUMMY_HASH = '$2b$10$jTsml.8J4A20.lUBAoNFH.OgMuvSC/isw61KZ2T7nQvWEyJV5ccSi';
const MAX_WAITING = 4;
const MAX_REMEMBERED = 64;

export class BasicAuth {
  readonly #users: ReadonlyMap<string, string>;
  readonly #remembered = new Set<string>();
  #queue: Promise<unknown> = Promise.resolve();
  #waiting = 0;

  constructor(users: ReadonlyMap<string, string>) {
    this.#users = users;
  }

  /** The Authorization header of a request, checked. */
  async check(header: string | undefined): Promise<AuthVerdict> {
    const credentials = parseBasic(header);
    if (credentials === null) return 'denied';
    const hash = this.#users.get(credentials.user);
    const key = createHash('sha256')
      .update(`${credentials.user}\u0000${credentials.password}\u0000${hash ?? ''}`)
      .digest();
    if (hash !== undefined && [...this.#remembered].some((known) => timingSafeEqual(Buffer.from(known, 'hex'), key)))
      return 'ok';
    if (this.#waiting >= MAX_WAITING) return 'busy';
    this.#waiting++;
    const checked = this.#queue.then(() => bcrypt.compare(credentials.password, hash ?? DUMMY_HASH));
    this.#queue = checked.catch(() => {});
    try {
      const matches = (await checked) && hash !== undefined;
      if (!matches) return 'denied';
      if (this.#remembered.size >= MAX_REMEMBERED) this.#remembered.clear();
      this.#remembered.add(key.toString('hex'));
      return 'ok';
    } finally {
      this.#waiting--;
    }
  }
}

function parseBasic(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon <= 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
