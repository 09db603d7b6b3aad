/**
 * Text from a policy (its name, layer names) that other tools' files carry inside a comment or label.
 * Every target format ends a comment at a line break, and some editors and parsers also at U+0085,
 * U+2028 or U+2029: a name carrying one would turn its tail into a directive (a systemd drop-in line
 * `ExecStartPre=...` runs as root). Policy names are refused with such characters when parsed, and every
 * exporter writes names through commentText as well, for policies imported from other formats.
 */

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
function isLineBreaking(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
}

/** True when the text holds a control character or a line/paragraph separator. */
export function hasLineBreaking(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    if (isLineBreaking(text.charCodeAt(index))) return true;
  }
  return false;
}

/** The text on one line, safe inside a comment (controls become spaces); cut to `max` with an ellipsis. */
export function commentText(text: string, max = Number.POSITIVE_INFINITY): string {
  let flat = '';
  for (const char of text) flat += isLineBreaking(char.charCodeAt(0)) ? ' ' : char;
  return flat.length <= max ? flat : `${flat.slice(0, max - 3)}...`;
}
