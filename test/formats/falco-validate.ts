/**
 * A structural checker for Falco rules files, standing in for `falco -r FILE -L` (Falco is not packaged
 * for Debian here, so the real binary was not run). It checks what Falco's loader checks first: every
 * item is a rule, macro or list with its required keys; conditions parse (and/or/not, parentheses,
 * comparisons, `in`/`pmatch` lists); every field is one of Falco's (test/fixtures/falco/fields.txt);
 * macros and lists are defined before use; output fields are known.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const FIELDS_FILE = new URL('../fixtures/falco/fields.txt', import.meta.url);
const PRIORITIES = new Set([
  'EMERGENCY',
  'ALERT',
  'CRITICAL',
  'ERROR',
  'WARNING',
  'NOTICE',
  'INFORMATIONAL',
  'INFO',
  'DEBUG',
]);
const RULE_KEYS = ['rule', 'desc', 'condition', 'output', 'priority', 'tags'] as const;
const COMPARISONS = new Set([
  '=',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'contains',
  'icontains',
  'bcontains',
  'startswith',
  'bstartswith',
  'endswith',
  'glob',
  'iglob',
  'regex',
]);
const LIST_OPERATORS = new Set(['in', 'intersects', 'pmatch']);
const BOOLEAN_WORDS = new Set(['and', 'or', 'not']);
const KEYWORDS = new Set(['and', 'or', 'not', ...LIST_OPERATORS, 'exists', ...COMPARISONS]);

interface KnownFields {
  readonly exact: ReadonlySet<string>;
  /** Fields that take an argument: `stem.x` and `stem[x]` are valid. */
  readonly stems: readonly string[];
}

let known: KnownFields | undefined;

function knownFields(): KnownFields {
  if (known !== undefined) return known;
  const lines = readFileSync(FIELDS_FILE, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  known = {
    exact: new Set(lines.map((line) => line.replace(/\*$/, ''))),
    stems: lines.filter((line) => line.endsWith('*')).map((line) => line.slice(0, -1)),
  };
  return known;
}

/** True if Falco's field list has this field (with its argument, for fields that take one). */
export function isKnownField(name: string): boolean {
  const fields = knownFields();
  if (fields.exact.has(name)) return true;
  return fields.stems.some((stem) => name.startsWith(`${stem}.`) || name.startsWith(`${stem}[`));
}

const FIELD_SHAPE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+(\[[^\]]*\])?$/;
const FIELD_WITH_OPERATOR = /^([a-z][a-z0-9_.]*(?:\[[^\]]*\])?)(!=|==|<=|>=|=|<|>)(.*)$/;

/** Splits a condition into tokens; `evt.dir=<` becomes field, operator, value. */
export function tokenize(condition: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < condition.length) {
    const c = condition.charAt(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push(c);
      i += 1;
    } else if (c === '"' || c === "'") {
      const end = condition.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated string at ${i}`);
      tokens.push(condition.slice(i, end + 1));
      i = end + 1;
    } else {
      let j = i;
      while (j < condition.length && !/[\s(),]/.test(condition.charAt(j))) j += 1;
      const word = condition.slice(i, j);
      const split = FIELD_WITH_OPERATOR.exec(word);
      if (split !== null)
        tokens.push(...[split[1] ?? '', split[2] ?? '', split[3] ?? ''].filter((t) => t !== ''));
      else tokens.push(word);
      i = j;
    }
  }
  return tokens;
}

class ConditionParser {
  private position = 0;

  constructor(
    private readonly tokens: readonly string[],
    private readonly macros: ReadonlySet<string>,
    private readonly lists: ReadonlySet<string>,
    private readonly problems: string[],
    private readonly where: string,
  ) {}

  parse(): void {
    this.expression();
    if (this.position < this.tokens.length) this.problem(`unexpected '${this.tokens[this.position]}'`);
  }

  private peek(): string | undefined {
    return this.tokens[this.position];
  }

  private next(): string | undefined {
    const token = this.tokens[this.position];
    this.position += 1;
    return token;
  }

  private problem(message: string): void {
    this.problems.push(`${this.where}: ${message}`);
  }

  private expect(token: string): void {
    const got = this.next();
    if (got !== token) this.problem(`expected '${token}', got '${got ?? 'end of condition'}'`);
  }

  private expression(): void {
    this.conjunction();
    while (this.peek() === 'or') {
      this.next();
      this.conjunction();
    }
  }

  private conjunction(): void {
    this.negation();
    while (this.peek() === 'and') {
      this.next();
      this.negation();
    }
  }

  private negation(): void {
    if (this.peek() === 'not') {
      this.next();
      this.negation();
      return;
    }
    this.primary();
  }

  private primary(): void {
    const token = this.next();
    if (token === undefined) return this.problem('condition ends where a term was expected');
    if (token === '(') {
      this.expression();
      return this.expect(')');
    }
    if (FIELD_SHAPE.test(token)) return this.comparison(token);
    if (KEYWORDS.has(token) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(token))
      return this.problem(`unexpected '${token}'`);
    if (!this.macros.has(token)) this.problem(`macro '${token}' is not defined before use`);
  }

  private comparison(field: string): void {
    if (!isKnownField(field)) this.problem(`unknown field '${field}'`);
    const operator = this.next();
    if (operator === 'exists') return;
    if (operator !== undefined && LIST_OPERATORS.has(operator)) return this.valueList();
    if (operator === undefined || !COMPARISONS.has(operator))
      return this.problem(`'${field}' is followed by '${operator ?? 'nothing'}', not an operator`);
    const value = this.next();
    if (value === undefined || value === '(' || value === ')' || value === ',' || BOOLEAN_WORDS.has(value)) {
      this.problem(`'${field} ${operator}' has no value`);
    }
  }

  private valueList(): void {
    this.expect('(');
    for (;;) {
      const item = this.next();
      if (item === undefined || item === ')' || item === '(' || item === ',')
        return this.problem(`bad list item '${item ?? 'end'}'`);
      if (item.startsWith('sysfence_') && !this.lists.has(item))
        this.problem(`list '${item}' is not defined before use`);
      const after = this.next();
      if (after === ')') return;
      if (after !== ',') return this.problem(`expected ',' or ')' in a list, got '${after ?? 'end'}'`);
    }
  }
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const c of text) {
    depth += c === '(' ? 1 : c === ')' ? -1 : 0;
    if (depth < 0) return false;
  }
  return depth === 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkCondition(
  condition: unknown,
  where: string,
  macros: ReadonlySet<string>,
  lists: ReadonlySet<string>,
  problems: string[],
): void {
  if (typeof condition !== 'string' || condition.trim() === '')
    return void problems.push(`${where}: condition must be a non-empty string`);
  if (!balanced(condition)) return void problems.push(`${where}: unbalanced parentheses`);
  new ConditionParser(tokenize(condition), macros, lists, problems, where).parse();
}

function checkOutput(output: unknown, where: string, problems: string[]): void {
  if (typeof output !== 'string' || output === '')
    return void problems.push(`${where}: output must be a non-empty string`);
  for (const match of output.matchAll(/%([a-z][a-z0-9_.]*(?:\[[^\]]*\])?)/g)) {
    if (!isKnownField(match[1] ?? '')) problems.push(`${where}: output names unknown field '${match[1]}'`);
  }
}

/** Every problem found in a Falco rules file; empty when it passes. */
export function validateFalcoRules(text: string): string[] {
  const problems: string[] = [];
  const document: unknown = parse(text);
  if (!Array.isArray(document)) return ['the file must be a YAML sequence of rules, macros and lists'];
  const macros = new Set<string>();
  const lists = new Set<string>();
  document.forEach((item: unknown, index) => {
    const where = `item ${index}`;
    if (!isRecord(item)) return void problems.push(`${where}: not a mapping`);
    if (typeof item.list === 'string') {
      if (!Array.isArray(item.items) || !item.items.every((v) => typeof v === 'string'))
        problems.push(`${where} (list ${item.list}): items must be a list of strings`);
      lists.add(item.list);
    } else if (typeof item.macro === 'string') {
      checkCondition(item.condition, `${where} (macro ${item.macro})`, macros, lists, problems);
      macros.add(item.macro);
    } else if (typeof item.rule === 'string') {
      const at = `${where} (rule ${item.rule})`;
      for (const key of RULE_KEYS) if (!(key in item)) problems.push(`${at}: missing '${key}'`);
      checkCondition(item.condition, at, macros, lists, problems);
      checkOutput(item.output, at, problems);
      if (typeof item.priority !== 'string' || !PRIORITIES.has(item.priority))
        problems.push(`${at}: bad priority '${String(item.priority)}'`);
      if (!Array.isArray(item.tags) || !item.tags.every((t) => typeof t === 'string'))
        problems.push(`${at}: tags must be a list of strings`);
      if (typeof item.desc !== 'string' || item.desc === '')
        problems.push(`${at}: desc must be a non-empty string`);
    } else if (!('required_engine_version' in item)) {
      problems.push(`${where}: neither rule, macro nor list`);
    }
  });
  return problems;
}
