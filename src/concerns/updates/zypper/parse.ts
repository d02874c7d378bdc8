/**
 * Readers of zypper's --xmlout: `list-patches` gives the patches (advisories)
 * with their status, `patch --dry-run` the packages a patch run would change
 * with their old and new editions. Attributes are read one element at a time.
 */
import type { Advisory, SecurityUpdate } from '../types.ts';

export function parsePatchList(xml: string): Advisory[] {
  return elements(xml, 'update')
    .filter((attributes) => attributes.kind === 'patch' && attributes.status === 'needed')
    .map((attributes) => ({
      id: attributes.name ?? '',
      severity: attributes.severity ?? null,
      summary: summaryOf(xml, attributes.name ?? ''),
    }))
    .filter((advisory) => advisory.id !== '');
}

export function parsePatchDryRun(xml: string): SecurityUpdate[] {
  return elements(xml, 'solvable')
    .filter((attributes) => attributes.type === 'package' && attributes.name)
    .map((attributes) => ({
      package: attributes.name as string,
      from: attributes['edition-old'] ?? null,
      to: attributes.edition ?? null,
      advisories: [],
    }));
}

function elements(xml: string, tag: string): Record<string, string>[] {
  return [...xml.matchAll(new RegExp(`<${tag}\\s([^>]*)>`, 'g'))].map((match) => attributesOf(match[1] as string));
}

function attributesOf(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of text.matchAll(/([A-Za-z_][\w-]*)="([^"]*)"/g))
    attributes[match[1] as string] = unescapeXml(match[2] as string);
  return attributes;
}

function summaryOf(xml: string, name: string): string | null {
  const start = xml.indexOf(`name="${escapeXml(name)}"`);
  if (start < 0) return null;
  const match = /<summary>([^<]*)<\/summary>/.exec(xml.slice(start, xml.indexOf('</update>', start)));
  return match ? unescapeXml(match[1] as string) : null;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
