import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from 'yaml';
import { commentLines, commentText, renderRule, yamlString } from '../../src/learn/policy-text.js';

test('yamlString reads back as exactly the same text, whatever it holds', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (text) => {
      const document: unknown = parse(`key: ${yamlString(text)}\n`);
      assert.deepEqual(document, { key: text });
    }),
    { numRuns: 2000 },
  );
  for (const text of [
    "it's",
    '"quoted"',
    'back\\slash',
    'tab\there',
    'nl\nx: 1',
    '\u202eevil',
    '#',
    '',
    '- a',
  ]) {
    assert.deepEqual(parse(`key: ${yamlString(text)}\n`), { key: text });
  }
});

test('comment text can never end the comment or hide characters', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (text) => {
      const line = commentLines([text], '  ')[0] ?? '';
      assert.doesNotMatch(line, /[\n\r\u0085\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]/);
      assert.deepEqual(parse(`a: 1 ${line.trimStart()}\n`), { a: 1 });
    }),
    { numRuns: 2000 },
  );
  assert.equal(commentText('café ×'), 'café ×', 'printable text is kept as it is');
  assert.equal(commentText('a\nb'), 'a\\x0ab');
});

test('renderRule writes a rule list item; a disabled rule is commented out whole', () => {
  const rule = {
    comments: ['two calls'],
    syscalls: [
      { name: 'read', note: 'seen 2×' },
      { name: 'write', note: 'seen 1×' },
    ],
    action: 'allow',
    conditions: [],
    reason: "it's needed",
  };
  const text = renderRule(rule, '  ').join('\n');
  assert.equal(
    text,
    [
      '  # two calls',
      '  - syscalls:',
      '      - read  # seen 2×',
      '      - write # seen 1×',
      '    action: allow',
      "    reason: 'it''s needed'",
    ].join('\n'),
  );
  assert.deepEqual(parse(`rules:\n${text}\n`), {
    rules: [{ syscalls: ['read', 'write'], action: 'allow', reason: "it's needed" }],
  });
  const disabled = renderRule({ ...rule, disabled: true }, '  ');
  assert.ok(disabled.every((line) => line.startsWith('  #')));
  assert.deepEqual(parse(`rules:\n${disabled.join('\n')}\n`), { rules: null });
});
