/**
 * Safe-by-default HTML building: plain strings are always escaped; only values built here (Html) are
 * inserted as markup. The review renderer never concatenates trace or policy text into markup itself.
 */
import { escapeHtml } from './escape.js';

/** Markup produced by this module (or by the SVG chart builders), safe to insert as is. */
export interface Html {
  readonly html: string;
}

export type Content = string | Html | readonly Content[];

/** Wraps markup built by trusted code (the SVG charts, which escape their own text). */
export function trusted(markup: string): Html {
  return { html: markup };
}

/** Renders content: strings escaped, Html as is, lists concatenated. */
export function render(content: Content): string {
  if (typeof content === 'string') return escapeHtml(content);
  if (Array.isArray(content)) return content.map((item: Content) => render(item)).join('');
  return (content as Html).html;
}

const ATTRIBUTE_NAME = /^[a-z][a-z0-9-]*$/;

/** An element with escaped attribute values and content. Names are code constants, checked anyway. */
export function el(tag: string, attributes: Readonly<Record<string, string>>, ...content: Content[]): Html {
  if (!ATTRIBUTE_NAME.test(tag)) throw new Error(`bad tag name '${tag}'`);
  const attrs = Object.entries(attributes).map(([name, value]) => {
    if (!ATTRIBUTE_NAME.test(name)) throw new Error(`bad attribute name '${name}'`);
    return ` ${name}="${escapeHtml(value)}"`;
  });
  return { html: `<${tag}${attrs.join('')}>${render(content)}</${tag}>` };
}

/** A table with a header row; every cell is content (escaped unless Html). */
export function table(
  className: string,
  headers: readonly string[],
  rows: readonly (readonly Content[])[],
): Html {
  return el(
    'table',
    { class: className },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((header) => el('th', {}, header)),
      ),
    ),
    el(
      'tbody',
      {},
      rows.map((row) =>
        el(
          'tr',
          {},
          row.map((cell) => el('td', {}, cell)),
        ),
      ),
    ),
  );
}

/** A definition list of label/value pairs. */
export function facts(pairs: readonly (readonly [string, Content])[]): Html {
  return el(
    'dl',
    { class: 'facts' },
    pairs.map(([label, value]) => [el('dt', {}, label), el('dd', {}, value)]),
  );
}

/** A bulleted list, or `empty` as a paragraph when there are no items. */
export function list(items: readonly Content[], empty: string): Html {
  return items.length === 0
    ? el('p', { class: 'none' }, empty)
    : el(
        'ul',
        {},
        items.map((item) => el('li', {}, item)),
      );
}
