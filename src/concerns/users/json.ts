/**
 * JSON.parse keeps the last of two equal keys without a word, and other readers of the same text (jq, Python,
 * the operator's eye) may take the first: a document whose meaning depends on the reader is rejected instead.
 * This walks text that JSON.parse accepted and lists every key given twice, by its path.
 */
export interface ParsedJson {
  readonly value: unknown;
  /** Path of each repeated key: ["alice"] for a user listed twice, ["alice", "sudo"] for a field given twice. */
  readonly duplicates: readonly (readonly string[])[];
}

type Frame =
  | { readonly kind: 'object'; readonly path: readonly string[]; readonly keys: Set<string>; key: string | null }
  | { readonly kind: 'array'; readonly path: readonly string[]; index: number };

/** Throws JSON.parse's SyntaxError for text that is not JSON. */
export function parseJsonNamingDuplicates(text: string): ParsedJson {
  const value: unknown = JSON.parse(text);
  return { value, duplicates: repeatedKeys(text) };
}

function repeatedKeys(text: string): string[][] {
  const duplicates: string[][] = [];
  const stack: Frame[] = [];
  const childPath = (): string[] => {
    const top = stack.at(-1);
    if (top === undefined) return [];
    return [...top.path, top.kind === 'object' ? (top.key ?? '') : String(top.index)];
  };
  const valueDone = () => {
    const top = stack.at(-1);
    if (top?.kind === 'object') top.key = null;
    else if (top?.kind === 'array') top.index++;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '{' || c === '[') {
      const path = childPath();
      stack.push(c === '{' ? { kind: 'object', path, keys: new Set(), key: null } : { kind: 'array', path, index: 0 });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      valueDone();
      i++;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      const top = stack.at(-1);
      if (top?.kind === 'object' && top.key === null) {
        const raw = text.slice(i + 1, end - 1);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw;
        if (top.keys.has(key)) duplicates.push([...top.path, key]);
        top.keys.add(key);
        top.key = key;
      } else {
        valueDone();
      }
      i = end;
    } else if (/[-0-9tfn]/.test(c)) {
      while (i < text.length && !/[,\]}\s]/.test(text[i] as string)) i++;
      valueDone();
    } else {
      i++;
    }
  }
  return duplicates;
}

/** The index just past the closing quote of the string starting at `start`. */
function stringEnd(text: string, start: number): number {
  // From quote to quote: a document's keys are scanned on every sync, and a character at a time cost more than
  // parsing the whole document. A quote ends the string unless an odd run of backslashes escapes it.
  let i = start + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote === -1) return text.length + 1;
    let before = quote - 1;
    while (before > start && text[before] === '\\') before--;
    if ((quote - 1 - before) % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}
