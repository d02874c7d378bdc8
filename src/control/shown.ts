/**
 * Text from outside (a reply body, the bytes of a torn spool segment) as the log may show it: cut to maxChars,
 * quoted and escaped as JSON, and with the invisible or reordering characters JSON leaves alone (C1 controls,
 * bidirectional overrides, line separators) escaped too, so it cannot rewrite the terminal or the line it is on.
 */
const INVISIBLE = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

export function shownText(text: string, maxChars = 200): string {
  const cut = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  return JSON.stringify(cut).replace(INVISIBLE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
