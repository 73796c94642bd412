/** Number and table formatting for terminal, Markdown and HTML output: the one place units are turned into text. */

/** Bytes with a decimal unit (kB = 1000 B, as Wireshark and network tools count), e.g. `41.2 kB`. */
export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs < 1000) return `${Math.round(bytes)} B`;
  if (abs < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  if (abs < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${(bytes / 1_000_000_000).toFixed(2)} GB`;
}

/** An integer with thousands separators, e.g. `12,345`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A number with a fixed number of decimals, thousands separated. */
export function formatNumber(n: number, decimals = 1): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A percentage, e.g. `74.1%`. */
export function formatPct(pct: number, decimals = 1): string {
  return `${pct.toFixed(decimals)}%`;
}

/** Column alignment of a text table. */
export type Align = 'left' | 'right';

/** Between two columns of a text table. */
const COLUMN_GAP = 2;

/**
 * A plain-text table with aligned columns and a rule under the header, readable in a terminal and in a CI
 * log alike (no box-drawing characters, no colour). Wider than `maxWidth`, it is printed as panels, one under
 * the other, each repeating the first column (the row's name) beside as many of the next columns as fit, as
 * R and pandas print a wide data frame: every figure stays, none is cut. A panel holds at least one column.
 */
export function textTable(header: string[], rows: string[][], align: Align[] = [], maxWidth = Number.POSITIVE_INFINITY): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const panel = (columns: number[]) => {
    const line = (cells: string[]) =>
      columns
        .map((i) => ((align[i] ?? 'left') === 'right' ? (cells[i] ?? '').padStart(widths[i]!) : (cells[i] ?? '').padEnd(widths[i]!)))
        .join(' '.repeat(COLUMN_GAP))
        .trimEnd();
    return [line(header), columns.map((i) => '-'.repeat(widths[i]!)).join(' '.repeat(COLUMN_GAP)), ...rows.map(line)].join('\n');
  };
  const panels: number[][] = [];
  let current = [0];
  let used = widths[0] ?? 0;
  for (let i = 1; i < widths.length; i++) {
    if (current.length > 1 && used + COLUMN_GAP + widths[i]! > maxWidth) {
      panels.push(current);
      current = [0];
      used = widths[0]!;
    }
    current.push(i);
    used += COLUMN_GAP + widths[i]!;
  }
  panels.push(current);
  return panels.map(panel).join('\n\n');
}

/** Indent of a wrapped sentence's further lines. */
const CONTINUATION = '  ';

/**
 * A sentence within `width` columns: its first line as long as the width, its further lines indented and
 * as long; unchanged when the width is unbounded.
 */
export function wrapped(text: string, width: number): string {
  return Number.isFinite(width) ? wrap(text, width, CONTINUATION, '').join('\n') : text;
}

/**
 * `text` broken at spaces into lines of at most `width` characters, each after `indent` (the first after
 * `firstIndent`, by default the same); a longer word stays whole.
 */
export function wrap(text: string, width: number, indent: string, firstIndent = indent): string[] {
  const lines: string[] = [];
  let line = '';
  const lead = () => (lines.length === 0 ? firstIndent : indent);
  for (const word of text.split(' ')) {
    if (line !== '' && lead().length + line.length + 1 + word.length > width) {
      lines.push(lead() + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(lead() + line);
  return lines;
}

/** A Markdown table; every cell is escaped (`escapeMarkdown`). */
export function markdownTable(header: string[], rows: string[][], align: Align[] = []): string {
  const line = (cells: string[]) => `| ${cells.map(escapeMarkdown).join(' | ')} |`;
  const rule = `| ${header.map((_, i) => ((align[i] ?? 'left') === 'right' ? '---:' : '---')).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/**
 * Text from input made inert in Markdown: a backslash before the punctuation that could open code, emphasis,
 * a link, an HTML tag or a new table cell (CommonMark allows a backslash before any ASCII punctuation).
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, '\\$&');
}

/** Text from input made inert in HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
