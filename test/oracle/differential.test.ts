/**
 * Differential tests against libseccomp 2.5.4 (the oracle for filter decisions, DESIGN.md): sysfence's
 * filter and libseccomp's filter for the same rules are run through the emulator over every syscall
 * number of each ABI, boundary numbers, a foreign AUDIT_ARCH and argument samples around every condition
 * constant, and must return the same value everywhere except where a named, justified known difference
 * (known-differences.ts) explains that exact probe. A sample is also run on this machine's kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { compile } from '../../src/bpf/compiler.js';
import { dockerDefaultProfilePath } from '../../bench/docker-profile.js';
import { emulate } from '../../src/bpf/emulator.js';
import type { Program } from '../../src/bpf/insn.js';
import { importOci } from '../../src/formats/oci-import.js';
import { actionToRet, type Action } from '../../src/policy/action.js';
import type { PolicyRule, ResolvedPolicy } from '../../src/policy/ir.js';
import { AUDIT_ARCH, syscallEntries, syscallNumber, type Arch } from '../../src/syscalls/arch.js';
import {
  libseccompCompile,
  specFromPolicy,
  type LibseccompResult,
  type LibseccompSpec,
} from '../../bench/peers/libseccomp.js';
import {
  compareFilters,
  describeRet,
  formatMismatches,
  type Comparison,
  type KnownDifference,
} from './compare.js';
import {
  anyOf,
  i386Multiplexing,
  libseccomp32BitAbis,
  libseccompContradictsItsInput,
  TOO_NEW_FOR_LIBSECCOMP_2_5_4,
  tooNewForLibseccomp,
  x86_64NumbersWithoutX32Bit,
} from './known-differences.js';
import {
  errnosOf,
  expectedOutcome,
  outcomeMatches,
  runUnderFilter,
  writeFilterFile,
  type KernelOutcome,
} from './kernel-run.js';
import { argumentVectors, conditionsFor, probesForRules, type Probe } from './probes.js';
import { cond, policyOf, requireLibseccomp, rule } from './peer.js';
import { policyArbitrary } from './random-policy.js';

const DOCKER_PROFILE = dockerDefaultProfilePath();
/** Pinned so the profile's minKernel entries do not depend on the machine running the tests. */
const KERNEL_VERSION = '6.18';
const ALLOW: Action = { kind: 'allow' };
const ENOSYS = 38;

interface CompiledPair {
  readonly policy: ResolvedPolicy;
  readonly ours: Program;
  readonly abis: readonly Arch[];
  readonly spec: LibseccompSpec;
  readonly theirs: LibseccompResult;
}

/** Compiles the policy with sysfence (x86_64 kernel) and libseccomp for the same ABIs. */
function compileBoth(policy: ResolvedPolicy, optimize: 1 | 2): CompiledPair {
  const ours = compile(policy, { arch: 'x86_64' });
  const spec = specFromPolicy(policy, { arches: ours.abis, optimize, unknownSyscalls: 'skip' });
  return { policy, ours: ours.program, abis: ours.abis, spec, theirs: libseccompCompile(spec) };
}

function importDocker(): ResolvedPolicy {
  return importOci(readFileSync(DOCKER_PROFILE, 'utf8'), DOCKER_PROFILE, {
    arch: 'x86_64',
    kernelVersion: KERNEL_VERSION,
  }).policy;
}

/**
 * An i386 probe with a non-zero upper argument word. A 32-bit process cannot produce one, but a 64-bit
 * process entering through `int $0x80` can: seccomp_data then carries the upper halves (observed on this
 * kernel, see test/helpers/seccomp-run.c) while the compat syscall uses only the low 32 bits.
 */
function dirtyI386(probe: Probe): boolean {
  return probe.abi === 'i386' && probe.args.some((arg) => arg >> 32n !== 0n);
}

/** The known differences that apply to any policy compiled for x86_64 kernels. */
function knownDifferences(pair: CompiledPair): KnownDifference {
  return anyOf(
    tooNewForLibseccomp(actionToRet(pair.policy.defaultAction)),
    i386Multiplexing(pair.policy.rules),
    libseccomp32BitAbis(pair.spec),
    x86_64NumbersWithoutX32Bit(
      pair.abis,
      actionToRet(pair.policy.badArchAction),
      actionToRet(pair.policy.unknownAction),
    ),
    libseccompContradictsItsInput(pair.spec),
  );
}

function assertNoMismatch(result: Comparison, what: string): void {
  assert.equal(
    result.mismatchCount,
    0,
    `${what}: ${result.mismatchCount} of ${result.compared} probes differ from libseccomp, first ones:\n${formatMismatches(result.mismatches)}`,
  );
}

test('docker-default: sysfence decides as libseccomp (optimize 2) on x86_64, x32 and i386', () => {
  requireLibseccomp();
  const pair = compileBoth(importDocker(), 2);
  assert.deepEqual([...pair.abis].sort(), ['i386', 'x32', 'x86_64']);
  const probes = [...probesForRules(pair.policy.rules, pair.abis)].filter((probe) => !dirtyI386(probe));
  const result = compareFilters(pair.ours, pair.theirs.program, probes, knownDifferences(pair));
  assertNoMismatch(result, 'docker-default');
  assert.ok(result.compared > 1300, `only ${result.compared} probes`);
  // Every excuse used is one this profile is expected to need, and each was needed: no silent broadening.
  assert.deepEqual([...result.excused.keys()].sort(), [
    'libseccomp compares only low words on x32',
    'too new for libseccomp 2.5.4 (i386)',
    'too new for libseccomp 2.5.4 (x32)',
    'too new for libseccomp 2.5.4 (x86_64)',
  ]);
});

test('docker-default: the names libseccomp skipped are the pinned too-new ones or absent on x86 ABIs', () => {
  requireLibseccomp();
  const pair = compileBoth(importDocker(), 2);
  const pinned = new Set(Object.values(TOO_NEW_FOR_LIBSECCOMP_2_5_4).flat());
  for (const name of pair.theirs.unknownSyscalls) {
    const onX86 = pair.abis.some((abi) => syscallNumber(abi, name) !== undefined);
    assert.ok(
      !onX86 || pinned.has(name),
      `libseccomp skipped ${name}, which is neither pinned as too new nor absent on x86`,
    );
  }
});

test('docker-default: libseccomp optimize 1 and optimize 2 decide alike (the peer is consistent)', () => {
  requireLibseccomp();
  const policy = importDocker();
  const two = compileBoth(policy, 2);
  const one = compileBoth(policy, 1);
  const result = compareFilters(
    one.theirs.program,
    two.theirs.program,
    probesForRules(policy.rules, two.abis),
  );
  assertNoMismatch(result, 'libseccomp optimize 1 vs 2');
});

test('docker-default, i386 with non-zero upper argument words: decided on the low words, as libseccomp and the syscall do', () => {
  requireLibseccomp();
  const pair = compileBoth(importDocker(), 2);
  const probes = [...probesForRules(pair.policy.rules, ['i386'])].filter(dirtyI386);
  assert.ok(probes.length > 20);
  assertNoMismatch(
    compareFilters(pair.ours, pair.theirs.program, probes, knownDifferences(pair)),
    'docker-default i386 upper words',
  );
});

/** Runs the random-policy property over the probes `keep` selects. */
function assertRandomPoliciesAgree(keep: (probe: Probe) => boolean, numRuns: number): void {
  fc.assert(
    fc.property(policyArbitrary, fc.constantFrom<1 | 2>(1, 2), (policy, optimize) => {
      const pair = compileBoth(policy, optimize);
      const probes = [...probesForRules(policy.rules, pair.abis)].filter(keep);
      const result = compareFilters(pair.ours, pair.theirs.program, probes, knownDifferences(pair));
      assertNoMismatch(
        result,
        `policy ${JSON.stringify(summarize(policy))}, libseccomp optimize ${optimize}`,
      );
    }),
    { numRuns, includeErrorInReport: true },
  );
}

test('random policies: sysfence decides as libseccomp for every probe (fast-check)', () => {
  requireLibseccomp();
  assertRandomPoliciesAgree((probe) => !dirtyI386(probe), 100);
});

test('random policies, i386 with non-zero upper argument words: decided on the low words (fast-check)', () => {
  requireLibseccomp();
  assertRandomPoliciesAgree((probe) => probe.abi === 'i386', 20);
});

/** A compact description of a random policy for failure messages. */
function summarize(policy: ResolvedPolicy): unknown {
  return {
    architectures: policy.architectures,
    defaultAction: policy.defaultAction,
    badArchAction: policy.badArchAction,
    rules: policy.rules.map((r) => ({
      syscalls: r.syscalls,
      action: r.action,
      conditions: r.conditions.map(
        (c) =>
          `a${c.index} ${c.op} 0x${c.value.toString(16)}${c.mask === undefined ? '' : ` mask 0x${c.mask.toString(16)}`} w${c.width}`,
      ),
    })),
  };
}

// ---- On the real kernel ---------------------------------------------------------------------------

interface KernelCase {
  readonly abi: 'x86_64' | 'i386';
  readonly name: string;
  /** 'buf': a pointer to the helper's scratch buffer; the emulator sees 0 there, so only for unchecked args. */
  readonly args: readonly (bigint | 'buf')[];
  /** An x32 number (the kernel here has no x32 support, so an allowed call fails with ENOSYS). */
  readonly x32?: boolean;
}

/** What both filters and the emulator said for one call. */
interface KernelCheck {
  readonly label: string;
  readonly oursOutcome: KernelOutcome;
  readonly theirsOutcome: KernelOutcome;
  readonly oursRet: number;
  readonly theirsRet: number;
}

function caseNumber(kernelCase: KernelCase): number {
  const abi: Arch = kernelCase.x32 === true ? 'x32' : kernelCase.abi;
  const nr = syscallNumber(abi, kernelCase.name);
  if (nr === undefined) throw new Error(`${kernelCase.name} has no number on ${abi}`);
  return nr;
}

/** The case's arguments as the emulator sees them ('buf' as 0: only used where no condition reads it). */
function emulatedArgs(kernelCase: KernelCase): bigint[] {
  return kernelCase.args.map((arg) => (arg === 'buf' ? 0n : arg));
}

/** Runs each case under both filters on the kernel and checks each against its emulator prediction. */
function runOnKernel(pair: CompiledPair, cases: readonly KernelCase[]): KernelCheck[] {
  const oursFile = writeFilterFile(pair.ours);
  const theirsFile = writeFilterFile(pair.theirs.bytes);
  const { policy } = pair;
  const filterErrnos = errnosOf([
    policy.defaultAction,
    policy.unknownAction,
    policy.badArchAction,
    ...policy.rules.map((r) => r.action),
  ]);
  return cases.map((kernelCase) => {
    const nr = caseNumber(kernelCase);
    const auditArch = AUDIT_ARCH[kernelCase.abi];
    const label = `${kernelCase.abi}${kernelCase.x32 === true ? '/x32' : ''} ${kernelCase.name}(${kernelCase.args.map((a) => (a === 'buf' ? a : `0x${a.toString(16)}`)).join(', ')})`;
    const args = emulatedArgs(kernelCase);
    const oursRet = emulate(pair.ours, { nr, arch: auditArch, args });
    const theirsRet = emulate(pair.theirs.program, { nr, arch: auditArch, args });
    const oursOutcome = runUnderFilter(oursFile, kernelCase.abi, nr, kernelCase.args);
    const theirsOutcome = runUnderFilter(theirsFile, kernelCase.abi, nr, kernelCase.args);
    for (const [who, ret, outcome] of [
      ['sysfence', oursRet, oursOutcome],
      ['libseccomp', theirsRet, theirsOutcome],
    ] as const) {
      const expected = expectedOutcome(ret);
      const executedWithoutX32 = expected.kind === 'executed' && kernelCase.x32 === true;
      const ok = executedWithoutX32
        ? outcome.kind === 'returned' && outcome.errno === ENOSYS
        : outcomeMatches(outcome, expected, filterErrnos);
      assert.ok(
        ok,
        `${label} under ${who}'s filter: emulator says ${describeRet(ret)}, kernel gave ${JSON.stringify(outcome, bigintText)}`,
      );
    }
    return { label, oursOutcome, theirsOutcome, oursRet, theirsRet };
  });
}

function bigintText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** The same kernel outcome kind (and errno or signal) from both filters. */
function sameOutcome(a: KernelOutcome, b: KernelOutcome): boolean {
  if (a.kind !== 'returned' || b.kind !== 'returned')
    return a.kind === b.kind && JSON.stringify(a, bigintText) === JSON.stringify(b, bigintText);
  return (a.ret === -1n) === (b.ret === -1n) && a.errno === b.errno;
}

function assertSameOutcomes(checks: readonly KernelCheck[]): void {
  for (const check of checks) {
    assert.ok(
      sameOutcome(check.oursOutcome, check.theirsOutcome),
      `${check.label}: sysfence ${JSON.stringify(check.oursOutcome, bigintText)} (${describeRet(check.oursRet)}), ` +
        `libseccomp ${JSON.stringify(check.theirsOutcome, bigintText)} (${describeRet(check.theirsRet)})`,
    );
  }
}

/** Calls that are harmless when they run: queries, or calls whose arguments the kernel ignores. */
const SAFE_X86_64_CASES: readonly KernelCase[] = [
  { abi: 'x86_64', name: 'getppid', args: [] },
  { abi: 'x86_64', name: 'getuid', args: [] },
  { abi: 'x86_64', name: 'personality', args: [0xffffffffn] },
  { abi: 'x86_64', name: 'getpid', args: [] },
  { abi: 'x86_64', name: 'gettid', args: [] },
  { abi: 'x86_64', name: 'sched_yield', args: [] },
  { abi: 'x86_64', name: 'uname', args: ['buf'] },
  { abi: 'x86_64', name: 'getppid', args: [], x32: true },
  { abi: 'i386', name: 'getppid', args: [] },
  { abi: 'i386', name: 'personality', args: [0xffffffffn] },
];

test('real kernel: a mixed-action policy does on this kernel what the emulator predicts, for sysfence and libseccomp', () => {
  requireLibseccomp();
  const policy = policyOf({
    architectures: ['x86_64', 'i386'],
    defaultAction: { kind: 'errno', errno: 1 },
    rules: [
      // The helper prints its result with write and leaves with exit_group.
      rule(['write', 'exit_group', 'exit'], ALLOW),
      rule(['getppid'], ALLOW),
      rule(['getuid'], { kind: 'errno', errno: 13 }),
      rule(['personality'], ALLOW, [cond(0, 'eq', 0xffffffffn)]),
      rule(['getpid'], { kind: 'trap', data: 0 }),
      rule(['gettid'], { kind: 'kill_process' }),
      rule(['sched_yield'], { kind: 'trace', data: 5 }),
      rule(['uname'], { kind: 'log' }),
    ],
  });
  const checks = runOnKernel(compileBoth(policy, 2), SAFE_X86_64_CASES);
  assertSameOutcomes(checks);
});

test('real kernel: docker-default filters from both compilers agree on harmless and denied calls', () => {
  requireLibseccomp();
  const pair = compileBoth(importDocker(), 2);
  const checks = runOnKernel(pair, [
    ...SAFE_X86_64_CASES,
    { abi: 'x86_64', name: 'personality', args: [1n] }, // denied: only 0, 8, 0x20000, 0x20008, 0xffffffff pass
    { abi: 'x86_64', name: 'unshare', args: [0n] }, // denied without CAP_SYS_ADMIN; unshare(0) is a no-op anyway
    { abi: 'x86_64', name: 'socket', args: [40n, 1n, 0n] }, // AF_VSOCK: denied
    { abi: 'x86_64', name: 'socket', args: [1n, 1n, 0n] }, // AF_UNIX: allowed, creates an fd
    { abi: 'i386', name: 'socket', args: [40n, 1n, 0n] },
  ]);
  assertSameOutcomes(checks);
});

test('real kernel: i386 call with a non-zero upper word — decided on what the syscall sees (low word), as libseccomp does', () => {
  requireLibseccomp();
  const pair = compileBoth(importDocker(), 2);
  // socket(0x1_0000_0026): the compat syscall sees domain 38, which docker-default denies (38 is between
  // its "< 38" and "== 39" rules); personality(0x1_ffffffff) is the harmless 0xffffffff query.
  const checks = runOnKernel(pair, [
    { abi: 'i386', name: 'socket', args: [0x1_0000_0026n, 1n, 0n] },
    { abi: 'i386', name: 'personality', args: [0x1_ffff_ffffn] },
  ]);
  assertSameOutcomes(checks);
});

test('real kernel: random policies, argument-checked getppid/getuid agree with the emulator for both compilers', () => {
  requireLibseccomp();
  const samples = fc.sample(policyArbitrary, { numRuns: 8, seed: 20240611 });
  for (const sampled of samples) {
    // Keep the helper able to report: write/exit_group/exit always allowed, first.
    const rules: PolicyRule[] = [
      rule(['write', 'exit_group', 'exit'], ALLOW),
      ...sampled.rules.filter(
        (r) => !r.syscalls.some((name) => ['write', 'exit_group', 'exit'].includes(name)),
      ),
    ];
    const policy: ResolvedPolicy = {
      ...sampled,
      rules,
      architectures: [...new Set<Arch>(['x86_64', ...sampled.architectures])],
    };
    const pair = compileBoth(policy, 2);
    const cases: KernelCase[] = (['getppid', 'getuid'] as const).flatMap((name) =>
      argumentVectors(conditionsFor(policy.rules, name))
        .slice(0, 6)
        .flatMap((args): KernelCase[] => [
          { abi: 'x86_64', name, args },
          // The kernel hands a 32-bit process clean upper words; dirty ones are the dedicated test's subject.
          { abi: 'i386', name, args: args.map((arg) => arg & 0xffffffffn) },
        ]),
    );
    const known = knownDifferences(pair);
    const checks = runOnKernel(pair, cases).filter((check, i) => {
      const kernelCase = cases[i] as KernelCase;
      const probe: Probe = {
        abi: kernelCase.abi,
        auditArch: AUDIT_ARCH[kernelCase.abi],
        nr: caseNumber(kernelCase),
        args: emulatedArgs(kernelCase),
      };
      return known(probe, check.oursRet, check.theirsRet) === undefined;
    });
    assertSameOutcomes(checks);
  }
});

test('probes cover every number of each x86 ABI table', () => {
  const rules: PolicyRule[] = [];
  for (const abi of ['x86_64', 'x32', 'i386'] as const) {
    const probed = new Set([...probesForRules(rules, [abi])].filter((p) => p.abi === abi).map((p) => p.nr));
    for (const [name, nr] of syscallEntries(abi)) assert.ok(probed.has(nr), `${abi} ${name} not probed`);
    assert.ok(probed.has(0xffffffff) && probed.has(0x40000000));
  }
});
