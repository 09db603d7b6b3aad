import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { ARCHES, parseArch } from '../../src/syscalls/arch.js';
import { FIXTURES } from './policy-problems.js';

interface PolicySchema {
  readonly properties: { readonly architectures: { readonly items: { readonly enum: readonly string[] } } };
}

const schema = JSON.parse(readFileSync('schema/policy.schema.json', 'utf8')) as PolicySchema;
const validate = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(schema);

function policyFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'bad' ? [] : policyFiles(path);
    return /\.(ya?ml|json)$/.test(entry.name) ? [path] : [];
  });
}

function errorsOf(file: string): string {
  validate(parse(readFileSync(file, 'utf8')));
  return JSON.stringify(validate.errors ?? []);
}

test('every valid fixture policy matches the JSON schema', () => {
  const files = policyFiles(FIXTURES);
  assert.ok(files.length >= 10, `found ${files.length} fixtures`);
  for (const file of files) assert.equal(errorsOf(file), '[]', file);
});

test('the schema rejects malformed policies', () => {
  const rejected = [
    'unknown-key.yaml',
    'missing-reason.yaml',
    'unknown-action.yaml',
    'arg-index.yaml',
    'errno-range.yaml',
  ];
  for (const name of rejected) assert.notEqual(errorsOf(join(FIXTURES, 'bad', name)), '[]', name);
  const maskWithoutMaskedEq = {
    name: 'x',
    rules: [
      { syscalls: ['read'], action: 'allow', reason: 'r', args: [{ index: 0, op: 'eq', value: 1, mask: 1 }] },
    ],
  };
  assert.equal(validate(maskWithoutMaskedEq), false);
  const maskedEqWithoutMask = {
    name: 'x',
    rules: [
      { syscalls: ['read'], action: 'allow', reason: 'r', args: [{ index: 0, op: 'masked_eq', value: 1 }] },
    ],
  };
  assert.equal(validate(maskedEqWithoutMask), false);
  assert.equal(
    validate({
      name: 'x',
      defaultAction: 'errno(EPERM)',
      rules: [
        {
          syscalls: ['read'],
          action: 'allow',
          reason: 'r',
          args: [{ index: 0, op: 'masked_eq', mask: '0xf', value: 'AF_INET|1' }],
        },
      ],
    }),
    true,
  );
});

test('the schema lists exactly the architecture spellings the loader accepts', () => {
  const spellings = schema.properties.architectures.items.enum;
  for (const spelling of spellings) assert.ok(parseArch(spelling) !== undefined, spelling);
  for (const arch of ARCHES) assert.ok(spellings.includes(arch), arch);
});
