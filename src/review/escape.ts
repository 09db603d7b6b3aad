/**
 * Escaping for text that comes from traces and policies: executable names and task names are chosen by
 * whoever runs the workload, so they are attacker-controlled and must only ever appear as text.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML/SVG element content and quoted attribute values; control characters become U+FFFD. */
export function escapeHtml(text: string): string {
  return withoutControls(text).replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/** Control characters (C0, DEL, C1) replaced, so a name cannot break a line, a table or a terminal. */
export function withoutControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
}

/**
 * Text made safe for inline Markdown (a table cell, a list item): HTML-escaped (Markdown renders inline
 * HTML), the punctuation that opens links, code spans, emphasis, strike-through or a new cell
 * backslash-escaped, and no line breaks (withoutControls), so block syntax cannot start.
 */
export function escapeMarkdown(text: string): string {
  return escapeHtml(text).replace(/[\\`*_[\]|~]/g, (char) => `\\${char}`);
}

/** At most `limit` characters, with an ellipsis when cut (for chart labels; the full text goes in a title). */
export function truncate(text: string, limit: number): string {
  const chars = [...text];
  return chars.length <= limit ? text : `${chars.slice(0, limit - 1).join('')}…`;
}
