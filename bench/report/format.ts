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

/**
 * A plain-text table with aligned columns and a rule under the header, readable in a terminal and in a CI
 * log alike (no box-drawing characters, no colour).
 */
export function textTable(header: string[], rows: string[][], align: Align[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => ((align[i] ?? 'left') === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
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
