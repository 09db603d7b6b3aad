/** Test helpers: the problems a failing policy load reports, and a virtual file system for inline layers. */
import assert from 'node:assert/strict';
import { PolicyError, type PolicyProblem } from '../../src/policy/errors.js';
import type { ReadPolicyFile } from '../../src/policy/resolve.js';

export const FIXTURES = 'test/fixtures/policy';

/** Awaits a load that must fail and returns its problems. */
export async function problemsOf(load: Promise<unknown>): Promise<readonly PolicyProblem[]> {
  try {
    await load;
  } catch (error) {
    assert.ok(error instanceof PolicyError, `expected a PolicyError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the policy to be rejected');
}

/** Asserts exactly one problem and returns it. */
export async function onlyProblem(load: Promise<unknown>): Promise<PolicyProblem> {
  const problems = await problemsOf(load);
  assert.equal(
    problems.length,
    1,
    `expected one problem, got:\n${problems.map((p) => p.message).join('\n')}`,
  );
  return problems[0] as PolicyProblem;
}

/** A ReadPolicyFile over in-memory files; missing files fail like the disk does. */
export function virtualFiles(files: Readonly<Record<string, string>>): ReadPolicyFile {
  return (file) => {
    const text = files[file];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return text;
  };
}

/** The first three settings every inline test layer needs. */
export const HEADER = 'name: inline\narchitectures: [x86_64]\ndefaultAction: errno(EPERM)\n';
