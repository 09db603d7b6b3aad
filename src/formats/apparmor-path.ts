/**
 * Writing a policy path into an AppArmor profile so that it matches that path literally and nothing
 * else. AppArmor file rules are globs (`*`, `**`, `?`, `[...]`, `{a,b}`, `@{var}`), so a path such as
 * `/srv/{a,b}` or `/data/**` written as is would grant far more than the policy asked. Every glob
 * character is either backslash-escaped (escapes checked against `apparmor_parser -D rule-exprs` 3.0.8,
 * which keeps them literal) or, where the parser's escape is not reliably literal, refused.
 */
import { policyFailure } from '../policy/problems.js';

/**
 * Escaped with a backslash inside a quoted AppArmor path. `{` also stops `@{var}` expansion;
 * `"` and `\` would otherwise end or corrupt the quoted string.
 */
const ESCAPED = new Set(['*', '[', ']', '{', '}', '\\', '"']);

/**
 * Refused: apparmor_parser 3.0.8 turns `\?` into a bare `?` (a one-character wildcard) in the
 * expression it compiles, and `^` negates inside bracket expressions; neither can be shown literal.
 */
const REFUSED = new Set(['?', '^']);

// Control characters (newline, tab, NUL ...) would end the rule or the profile line.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Escapes one absolute path for use inside a double-quoted AppArmor path; throws a PolicyError naming `where`. */
export function escapeAppArmorPath(path: string, where: string): string {
  checkPath(path, where);
  let escaped = '';
  for (const character of path) escaped += ESCAPED.has(character) ? `\\${character}` : character;
  return escaped;
}

/**
 * The quoted pattern for a Landlock-style path rule: the path itself and everything beneath it
 * (`"/usr{,/**}"` matches `/usr`, the directory `/usr/` and all below). The root directory is `"/{,**}"`.
 */
export function beneathPattern(path: string, where: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '"/{,**}"';
  return `"${escapeAppArmorPath(trimmed, where)}{,/**}"`;
}

/** The quoted pattern for exactly one file (an attachment's executable). */
export function exactPattern(path: string, where: string): string {
  return `"${escapeAppArmorPath(path, where)}"`;
}

function checkPath(path: string, where: string): void {
  const shown = JSON.stringify(path);
  if (!path.startsWith('/')) throw policyFailure(`${where} ${shown} must be an absolute path`);
  if (CONTROL_CHARACTER.test(path)) {
    throw policyFailure(
      `${where} ${shown} contains a control character (newline, tab ...), which an AppArmor rule cannot hold`,
    );
  }
  const refused = [...path].find((character) => REFUSED.has(character));
  if (refused !== undefined) {
    throw policyFailure(
      `${where} ${shown} contains '${refused}', which apparmor_parser cannot match literally (it would become a wildcard)`,
      undefined,
      'rename the path, or list its parent directory if granting all of it is intended',
    );
  }
  if (path.split('/').some((part) => part === '.' || part === '..')) {
    // AppArmor matches the resolved path, so a rule naming '..' would never match anything.
    throw policyFailure(`${where} ${shown} has '.' or '..' components; write the resolved path`);
  }
}
