/**
 * What a person reads on a server-rendered page, for in-process tests that assert words rather than markup: the text
 * without tags, entities decoded, whitespace collapsed (nhsuk-frontend's macros leave much of it between attributes).
 */
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", nbsp: ' ' };
export const decode = (s: string) =>
  s.replace(/&(#?\w+);/g, (m, e: string) => ENTITIES[e] ?? (/^#\d+$/.test(e) ? String.fromCodePoint(Number(e.slice(1))) : m));

/** The page's text as read: scripts and styles dropped, line breaks and the ends of blocks and cells as new lines. */
export function readableText(html: string): string {
  const lines = html.replace(/<(script|style)\b[\s\S]*?<\/\1>/g, '')
    .replace(/<br\s*\/?>|<\/(p|li|h\d|tr|td|th|div|dt|dd|legend|label|summary|caption)>/g, '\n');
  return decode(lines.replace(/<[^>]+>/g, ' '))
    .split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter(Boolean).join('\n');
}

/** The text of the element with this id (the first element so named, to its matching close tag of the same name). */
export function textOf(html: string, id: string): string | undefined {
  const open = new RegExp(`<(\\w+)\\b[^>]*\\bid="${id}"[^>]*>`).exec(html);
  if (!open) return undefined;
  const tag = open[1]!;
  let depth = 1;
  const re = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g');
  re.lastIndex = open.index + open[0].length;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return readableText(html.slice(open.index + open[0].length, m.index));
  }
  return readableText(html.slice(open.index + open[0].length));
}

/** The error summary's items, as read. */
export function errorSummaryItems(html: string): string[] {
  const body = /<div class="nhsuk-error-summary__body">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<a\b[^>]*>([\s\S]*?)<\/a>/g)].map((m) => readableText(m[1]!));
}

/** What a form field shows: an input's value or a textarea's text. */
export function fieldValue(html: string, id: string): string | undefined {
  const textarea = new RegExp(`<textarea\\b[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</textarea>`).exec(html);
  if (textarea) return decode(textarea[1]!);
  const input = new RegExp(`<input\\b(?=[^>]*\\bid="${id}")[^>]*>`).exec(html);
  return input ? decode(/\bvalue="([^"]*)"/.exec(input[0])?.[1] ?? '') : undefined;
}
