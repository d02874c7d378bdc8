/**
 * Bytes and characters as the readers of env files see them. Files are decoded
 * losslessly: each byte that is not part of valid UTF-8 becomes a lone surrogate
 * U+DC80..U+DCFF (no valid UTF-8 decodes to one), so a file can be checked for
 * invalid UTF-8, modelled byte for byte and written back unchanged.
 */

const INVALID_BYTE_BASE = 0xdc80;

/** UTF-8 as systemd's utf8_is_valid and the WHATWG decoder accept it: no overlongs, surrogates or above U+10FFFF. */
export function decodeLossless(bytes: Uint8Array): string {
  const decoder = new TextDecoder();
  let out = '';
  let run = 0;
  let index = 0;
  while (index < bytes.length) {
    const length = sequenceLength(bytes, index);
    if (length > 0) {
      index += length;
      continue;
    }
    out +=
      decoder.decode(bytes.subarray(run, index)) + String.fromCharCode(INVALID_BYTE_BASE + (bytes[index] as number));
    run = ++index;
  }
  return out + decoder.decode(bytes.subarray(run));
}

/** The length of the valid UTF-8 sequence at index, or 0 when its first byte does not start one. */
function sequenceLength(bytes: Uint8Array, index: number): number {
  const first = bytes[index] as number;
  if (first < 0x80) return 1;
  const [length, low, high] =
    first >= 0xc2 && first <= 0xdf
      ? [2, 0x80, 0xbf]
      : first === 0xe0
        ? [3, 0xa0, 0xbf]
        : first === 0xed
          ? [3, 0x80, 0x9f]
          : first >= 0xe1 && first <= 0xef
            ? [3, 0x80, 0xbf]
            : first === 0xf0
              ? [4, 0x90, 0xbf]
              : first >= 0xf1 && first <= 0xf3
                ? [4, 0x80, 0xbf]
                : first === 0xf4
                  ? [4, 0x80, 0x8f]
                  : [0, 0, 0];
  if (length === 0 || index + length > bytes.length) return 0;
  const second = bytes[index + 1] as number;
  if (second < low || second > high) return 0;
  for (let next = index + 2; next < index + length; next++) if (((bytes[next] as number) & 0xc0) !== 0x80) return 0;
  return length;
}

export function encodeLossless(text: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const byte = invalidByteAt(text, index);
    if (byte === null) continue;
    chunks.push(new TextEncoder().encode(text.slice(start, index)), Uint8Array.of(byte));
    start = index + 1;
  }
  chunks.push(new TextEncoder().encode(text.slice(start)));
  return concat(chunks);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** The raw byte a decoded invalid byte stands for, or null: a low surrogate in its range that is not half of a pair. */
export function invalidByteAt(text: string, index: number): number | null {
  const code = text.charCodeAt(index);
  if (code < INVALID_BYTE_BASE || code > INVALID_BYTE_BASE + 0xff) return null;
  const previous = index > 0 ? text.charCodeAt(index - 1) : 0;
  return previous >= 0xd800 && previous <= 0xdbff ? null : code - INVALID_BYTE_BASE;
}

export function firstInvalidByte(text: string): { readonly index: number; readonly byte: number } | null {
  for (let index = 0; index < text.length; index++) {
    const byte = invalidByteAt(text, index);
    if (byte !== null) return { index, byte };
  }
  return null;
}

/** U+FDD0..U+FDEF and the last two code points of every plane, which systemd's utf8_is_valid refuses. */
export function isNoncharacter(code: number): boolean {
  return (code >= 0xfdd0 && code <= 0xfdef) || (code & 0xfffe) === 0xfffe;
}

/** Its length in bytes as written to disk or passed to execve. */
export function byteLength(text: string): number {
  return encodeLossless(text).length;
}

/**
 * Whitespace at the edges of a value, as the union of both readers' rules:
 * systemd trims " \t\n\r", Go's strings.TrimSpace (ecs-init) trims unicode.IsSpace,
 * which also holds \v, \f, U+0085, U+00A0 and the Unicode spaces. The union is
 * Go's set, which the ecs-init model also uses.
 */
const EDGE_SPACE =
  '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a' +
  '\u2028\u2029\u202f\u205f\u3000';

export function isEdgeSpace(character: string): boolean {
  return character !== '' && EDGE_SPACE.includes(character);
}

const NAMES: Readonly<Record<string, string>> = {
  '\0': 'NUL',
  '\t': 'TAB',
  '\n': 'LF (a newline)',
  '\v': 'VT (vertical tab)',
  '\f': 'FF (form feed)',
  '\r': 'CR (carriage return)',
  ' ': 'a space',
  '\u007f': 'DEL',
  '\u0085': 'U+0085 (NEXT LINE)',
  '\u00a0': 'U+00A0 (NO-BREAK SPACE)',
  '\u2028': 'U+2028 (LINE SEPARATOR)',
  '\u2029': 'U+2029 (PARAGRAPH SEPARATOR)',
  '\ufeff': 'BOM (U+FEFF, byte order mark)',
  '\ufffd': 'U+FFFD (REPLACEMENT CHARACTER)',
};

/** A character named for a message: "CR (carriage return)", "U+2028 (LINE SEPARATOR)", "invalid UTF-8 byte 0xFF". */
export function characterName(text: string, index = 0): string {
  const byte = invalidByteAt(text, index);
  if (byte !== null) return `invalid UTF-8 byte 0x${hex(byte, 2)}`;
  const character = String.fromCodePoint(text.codePointAt(index) as number);
  return NAMES[character] ?? (isVisible(character) ? `"${character}"` : codePoint(character));
}

/** Not a space, control, format character, surrogate, private-use or unassigned code point (noncharacters too). */
function isVisible(character: string): boolean {
  return !/^[\p{Z}\p{C}]$/u.test(character);
}

function codePoint(character: string): string {
  return `U+${hex(character.codePointAt(0) as number, 4)}`;
}

function hex(value: number, digits: number): string {
  return value.toString(16).toUpperCase().padStart(digits, '0');
}

/** C0 and C1 controls, DEL, line and paragraph separators, the BOM, U+FFFD, lone surrogates: never printed raw. */
const UNPRINTABLE = /^[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffd\ud800-\udfff]$/;

/** One code point (a surrogate pair is one character outside the BMP, printable). */
function isPrintable(character: string): boolean {
  return !UNPRINTABLE.test(character);
}

/** Text made safe for one line of a message: controls and the like as escapes, nothing else changed. */
export function escapeControls(text: string): string {
  return escapeWhere(text, (character) => !isPrintable(character));
}

function escapeWhere(text: string, needsEscape: (character: string) => boolean): string {
  let out = '';
  let index = 0;
  for (const character of text) {
    out += needsEscape(character) ? escapeOne(text, index) : character;
    index += character.length;
  }
  return out;
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\0': '\\0',
};

function escapeOne(text: string, index: number): string {
  const byte = invalidByteAt(text, index);
  if (byte !== null) return `\\x${hex(byte, 2).toLowerCase()}`;
  const character = text[index] as string;
  return SHORT_ESCAPES[character] ?? `\\u${hex(character.charCodeAt(0), 4).toLowerCase()}`;
}

/** A value or line quoted for a message, on one line: "a\tb", "x\u2028y", "\xff". */
export function quoted(text: string): string {
  return `"${escapeWhere(text, (character) => !isPrintable(character) || character === '\\' || character === '"')}"`;
}

/** The lines of a text, without the empty one after a final newline. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
