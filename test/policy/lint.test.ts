/**
 * The lint catalogue test: for every lint id, a policy that triggers it and one that does not, and
 * every id documented in docs/lint.md has such a pair (and every catalogue id is documented).
 */
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicyText } from '../../src/policy/load.js';
import {
  LINT_CATALOGUE,
  lintPolicy,
  type Finding,
  type LintId,
  type Severity,
} from '../../src/policy/lint.js';
import type { ResolvedPolicy } from '../../src/policy/ir.js';

const NOW = new Date('2026-02-01T12:00:00Z');

/** The parts of a test policy; anything left out takes the value of a policy that triggers no lint. */
interface PolicyParts {
  readonly architectures?: string;
  readonly defaultAction?: string;
  readonly unknownAction?: string;
  readonly badArchAction?: string;
  readonly metadata?: string;
  readonly rules?: string;
}

const CLEAN_RULES = `
  - syscalls: [read, write, close, rt_sigreturn, restart_syscall, exit, exit_group]
    action: allow
    reason: "descriptor I/O, signal return and exit"`;

function policyText(parts: PolicyParts): string {
  return `name: lint-case
architectures: ${parts.architectures ?? '[x86_64]'}
defaultAction: ${parts.defaultAction ?? 'errno(EPERM)'}
unknownAction: ${parts.unknownAction ?? 'errno(ENOSYS)'}
badArchAction: ${parts.badArchAction ?? 'kill_process'}
metadata: ${parts.metadata ?? '{ owner: platform-security, lastReview: 2026-01-15, reviewInterval: 90d }'}
rules:${parts.rules ?? CLEAN_RULES}
`;
}

function noExtends(file: string): Promise<string> {
  return Promise.reject(new Error(`test policies have no extends (asked for ${file})`));
}

async function policyOf(parts: PolicyParts): Promise<ResolvedPolicy> {
  return parsePolicyText(policyText(parts), 'lint-case.yaml', noExtends);
}

/** A rule in YAML, indented to sit in `rules:`. */
function rule(syscalls: string, action: string, extra = ''): string {
  return `\n  - syscalls: [${syscalls}]\n    action: ${action}\n    reason: "test"${extra}`;
}

const READ_FD_3 = '\n    args:\n      - { index: 0, op: eq, value: 3, width: 32 }';

/** A test policy: YAML parts, optionally edited as IR (for states the parser itself refuses). */
interface Case {
  readonly parts: PolicyParts;
  readonly edit?: (policy: ResolvedPolicy) => ResolvedPolicy;
}

interface CatalogueCase {
  readonly id: LintId;
  readonly triggers: Case;
  /** Expected severity of the finding `triggers` produces (the catalogue's unless scaled). */
  readonly severity?: Severity;
  readonly clean: Case;
}

const CASES: readonly CatalogueCase[] = [
  {
    id: 'dangerous-syscall-allowed',
    triggers: { parts: { rules: CLEAN_RULES + rule('ptrace', 'allow') } },
    severity: 'error',
    clean: { parts: { rules: CLEAN_RULES + rule('ptrace', 'kill_process') } },
  },
  {
    id: 'essential-syscall-denied',
    triggers: { parts: { rules: rule('read, write, close, restart_syscall, exit, exit_group', 'allow') } },
    clean: { parts: { rules: CLEAN_RULES } },
  },
  {
    id: 'io-uring-allowed',
    triggers: { parts: { rules: CLEAN_RULES + rule('io_uring_setup, io_uring_enter', 'allow') } },
    clean: { parts: { rules: CLEAN_RULES + rule('io_uring_setup, io_uring_enter', 'errno(ENOSYS)') } },
  },
  {
    id: 'equivalent-syscall-hole',
    triggers: { parts: { rules: CLEAN_RULES + rule('execve', 'kill_process') + rule('execveat', 'allow') } },
    clean: { parts: { rules: CLEAN_RULES + rule('execve, execveat', 'kill_process') } },
  },
  {
    id: 'vdso-restricted',
    triggers: { parts: { rules: CLEAN_RULES + rule('clock_gettime, gettimeofday', 'kill_process') } },
    clean: { parts: { rules: CLEAN_RULES + rule('clock_gettime, gettimeofday', 'allow') } },
  },
  {
    id: 'multiplexer-hole',
    triggers: {
      parts: {
        architectures: '[x86_64, i386]',
        rules: CLEAN_RULES + rule('socket', 'errno(EAFNOSUPPORT)') + rule('socketcall', 'allow'),
      },
    },
    clean: {
      parts: {
        architectures: '[x86_64, i386]',
        rules: CLEAN_RULES + rule('socket', 'errno(EAFNOSUPPORT)') + rule('socketcall', 'errno(ENOSYS)'),
      },
    },
  },
  {
    id: 'multiplexer-allowed',
    triggers: {
      parts: { architectures: '[x86_64, i386]', rules: CLEAN_RULES + rule('socketcall', 'allow') },
    },
    clean: {
      parts: { architectures: '[x86_64, i386]', rules: CLEAN_RULES + rule('socketcall', 'errno(ENOSYS)') },
    },
  },
  {
    id: 'bad-arch-allows',
    triggers: { parts: { badArchAction: 'allow' } },
    clean: { parts: { badArchAction: 'kill_process' } },
  },
  {
    id: 'arch-not-covered',
    triggers: { parts: { badArchAction: 'errno(ENOSYS)' } },
    clean: { parts: { badArchAction: 'errno(ENOSYS)', architectures: '[x86_64, x32, i386]' } },
  },
  {
    id: 'arch-compat-listed',
    triggers: { parts: { architectures: '[x86_64, i386]' } },
    clean: { parts: { architectures: '[x86_64]' } },
  },
  {
    id: 'kill-thread',
    triggers: { parts: { rules: CLEAN_RULES + rule('ptrace', 'kill_thread') } },
    clean: { parts: { rules: CLEAN_RULES + rule('ptrace', 'kill_process') } },
  },
  {
    id: 'unknown-action-not-enosys',
    triggers: { parts: { unknownAction: 'errno(EPERM)' } },
    clean: { parts: { unknownAction: 'errno(ENOSYS)' } },
  },
  {
    id: 'exception-expired',
    triggers: {
      parts: { rules: CLEAN_RULES + rule('getcwd', 'allow', '\n    expires: 2026-01-31\n    ticket: OPS-1') },
    },
    clean: {
      parts: { rules: CLEAN_RULES + rule('getcwd', 'allow', '\n    expires: 2026-02-01\n    ticket: OPS-1') },
    },
  },
  {
    id: 'exception-expiring',
    triggers: {
      parts: { rules: CLEAN_RULES + rule('getcwd', 'allow', '\n    expires: 2026-02-14\n    ticket: OPS-1') },
    },
    clean: {
      parts: { rules: CLEAN_RULES + rule('getcwd', 'allow', '\n    expires: 2026-02-15\n    ticket: OPS-1') },
    },
  },
  {
    id: 'rule-equals-default',
    triggers: { parts: { rules: CLEAN_RULES + rule('getcwd', 'errno(EPERM)') } },
    // Restating the default before a broader allow is what narrows that allow: not redundant.
    clean: {
      parts: {
        rules:
          CLEAN_RULES +
          rule('socket', 'allow', '\n    args:\n      - { index: 0, op: eq, value: AF_INET, width: 32 }') +
          rule('socket', 'errno(EPERM)') +
          rule('socket, connect', 'allow'),
      },
    },
  },
  {
    id: 'rule-shadowed',
    // read is allowed unconditionally first, so the later, narrower rule for fd 3 never matches.
    triggers: { parts: { rules: CLEAN_RULES + rule('read', 'errno(EACCES)', READ_FD_3) } },
    clean: { parts: { rules: rule('read', 'errno(EACCES)', READ_FD_3) + CLEAN_RULES } },
  },
  {
    id: 'review-overdue',
    triggers: { parts: { metadata: '{ owner: team, lastReview: 2025-10-01, reviewInterval: 90d }' } },
    clean: { parts: { metadata: '{ owner: team, lastReview: 2025-11-03, reviewInterval: 90d }' } },
  },
  {
    id: 'review-date-missing',
    triggers: { parts: { metadata: '{ owner: team }' } },
    clean: { parts: { metadata: '{ owner: team, lastReview: 2026-01-10 }' } },
  },
  {
    id: 'review-interval-invalid',
    triggers: {
      parts: {},
      // The parser refuses such intervals; an IR built elsewhere (an importer, a test) may still hold one.
      edit: (policy) => ({ ...policy, metadata: { ...policy.metadata, reviewInterval: 'quarterly' } }),
    },
    clean: { parts: { metadata: '{ owner: team, lastReview: 2026-01-10, reviewInterval: 3m }' } },
  },
  {
    id: 'owner-missing',
    triggers: { parts: { metadata: '{ lastReview: 2026-01-10 }' } },
    clean: { parts: { metadata: '{ owner: team, lastReview: 2026-01-10 }' } },
  },
];

async function findingsOf(testCase: Case): Promise<Finding[]> {
  const policy = await policyOf(testCase.parts);
  return lintPolicy(testCase.edit ? testCase.edit(policy) : policy, { now: NOW });
}

test('the baseline test policy triggers no lint at all', async () => {
  assert.deepEqual(await findingsOf({ parts: {} }), []);
});

for (const { id, triggers, clean, severity } of CASES) {
  test(`${id}: triggered by its positive case, not by its negative one`, async () => {
    const hits = (await findingsOf(triggers)).filter((f) => f.id === id);
    assert.ok(hits.length > 0, `expected a ${id} finding`);
    const info = LINT_CATALOGUE.find((entry) => entry.id === id);
    for (const hit of hits) {
      assert.equal(hit.severity, severity ?? info?.severity);
      assert.ok(hit.message.length > 0 && hit.reason.length > 0 && hit.fix.length > 0);
    }
    const misses = (await findingsOf(clean)).filter((f) => f.id === id);
    assert.deepEqual(
      misses,
      [],
      `clean case still reports ${id}: ${misses.map((f) => f.message).join('; ')}`,
    );
  });
}

test('every catalogue id has a case, and docs/lint.md documents exactly the catalogue ids', () => {
  const ids = LINT_CATALOGUE.map((entry) => entry.id).sort();
  assert.deepEqual(CASES.map((c) => c.id).sort(), ids);
  const docs = readFileSync(new URL('../../docs/lint.md', import.meta.url), 'utf8');
  const documented = [...docs.matchAll(/^\| `([a-z0-9-]+)` +\|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, ids);
});

test('findings about a rule point at its file:line:col', async () => {
  const [hit] = (await findingsOf(CASES[0]?.triggers ?? { parts: {} })).filter(
    (f) => f.id === 'dangerous-syscall-allowed',
  );
  assert.equal(hit?.syscall, 'ptrace');
  assert.deepEqual(hit?.location, { file: 'lint-case.yaml', line: 11, column: 5 });
  assert.equal(hit?.rule?.layer, 'lint-case');
});

test('dangerous-syscall-allowed scales severity with risk, and log counts as allowed', async () => {
  const findings = await findingsOf({
    parts: {
      rules: CLEAN_RULES + rule('bpf', 'log') + rule('kcmp', 'allow') + rule('ptrace', 'errno(EPERM)'),
    },
  });
  const severities = new Map(
    findings.filter((f) => f.id === 'dangerous-syscall-allowed').map((f) => [f.syscall, f.severity]),
  );
  assert.deepEqual(Object.fromEntries(severities), { bpf: 'warning', kcmp: 'info' });
});

test('defaultAction allow exposes every risky syscall the rules do not deny', async () => {
  const findings = await findingsOf({
    parts: { defaultAction: 'allow', rules: CLEAN_RULES + rule('ptrace', 'kill_process') },
  });
  const risky = new Set(findings.filter((f) => f.id === 'dangerous-syscall-allowed').map((f) => f.syscall));
  assert.ok(risky.has('kexec_load') && risky.has('mount'));
  assert.ok(!risky.has('ptrace'));
  assert.ok(findings.some((f) => f.id === 'io-uring-allowed' && f.rule === undefined));
});

test('an ENOSYS fallback is no equivalence hole: clone3 errno(ENOSYS) steers libc to an allowed clone', async () => {
  const holes = async (action: string): Promise<number> =>
    (
      await findingsOf({ parts: { rules: CLEAN_RULES + rule('clone', 'allow') + rule('clone3', action) } })
    ).filter((f) => f.id === 'equivalent-syscall-hole').length;
  assert.equal(await holes('errno(ENOSYS)'), 0);
  assert.ok(
    (await holes('errno(EPERM)')) > 0,
    'a real denial of clone3 next to an open clone is still a hole',
  );
});

test('equivalence holes are per ABI: open does not exist on aarch64', async () => {
  const rules = CLEAN_RULES + rule('open', 'errno(EACCES)') + rule('openat', 'allow');
  const x86 = (await findingsOf({ parts: { rules } })).filter((f) => f.id === 'equivalent-syscall-hole');
  assert.equal(x86.length, 1);
  assert.match(x86[0]?.message ?? '', /open is restricted .* openat is allowed \(x86_64\)/);
  const arm = (await findingsOf({ parts: { rules, architectures: '[aarch64]' } })).filter(
    (f) => f.id === 'equivalent-syscall-hole',
  );
  assert.deepEqual(arm, []);
});

test('an equivalent syscall narrowed by arguments is deliberate, not a hole', async () => {
  const rules =
    CLEAN_RULES +
    rule('unshare', 'kill_process') +
    rule('clone', 'allow', '\n    args:\n      - { index: 0, op: masked_eq, mask: 0x7E020000, value: 0 }');
  const findings = await findingsOf({ parts: { rules } });
  assert.deepEqual(
    findings.filter((f) => f.id === 'equivalent-syscall-hole'),
    [],
  );
});

test('socketcall allowed only for selectors whose direct call is allowed is no hole', async () => {
  const rules =
    CLEAN_RULES +
    rule('socket', 'errno(EAFNOSUPPORT)') +
    rule('socketcall', 'allow', '\n    args:\n      - { index: 0, op: eq, value: 3, width: 32 }');
  const findings = await findingsOf({ parts: { architectures: '[x86_64, i386]', rules } });
  assert.deepEqual(
    findings.filter((f) => f.id === 'multiplexer-hole'),
    [],
  );
  assert.ok(findings.some((f) => f.id === 'multiplexer-allowed'));
});

test('kill_thread as a policy-level action is reported without a rule', async () => {
  const findings = (await findingsOf({ parts: { defaultAction: 'kill_thread' } })).filter(
    (f) => f.id === 'kill-thread',
  );
  assert.equal(findings.length, 1);
  assert.match(findings[0]?.message ?? '', /defaultAction/);
});

test('findings come most severe first', async () => {
  const findings = await findingsOf({
    parts: {
      unknownAction: 'errno(EPERM)',
      rules: CLEAN_RULES + rule('ptrace', 'allow') + rule('getcwd', 'errno(EPERM)'),
    },
  });
  const ranks = findings.map((f) => ['error', 'warning', 'info'].indexOf(f.severity));
  assert.deepEqual(
    ranks,
    [...ranks].sort((a, b) => a - b),
  );
  assert.ok(ranks.length >= 3);
});
