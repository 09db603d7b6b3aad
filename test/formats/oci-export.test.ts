import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { DOCKER_DEFAULT_CAPS } from '../../src/formats/docker-caps.js';
import { loadAnyPolicy } from '../../src/formats/load.js';
import { exportOci, importOci, policyToYaml } from '../../src/formats/oci.js';
import { PolicyError } from '../../src/policy/errors.js';
import type { ArgCondition, PolicyRule, ResolvedPolicy } from '../../src/policy/ir.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { assertSameDecisions, DOCKER_PROFILE_PATH, dockerProfile } from './oci-helpers.js';
import { craftedPolicy, craftedRule } from './support.js';

const X86_64 = { arch: 'x86_64', kernelVersion: '6.8' } as const;

/** A rule of layer `base`, written at base.yaml:LINE. */
function rule(
  syscalls: string[],
  action: PolicyRule['action'],
  conditions: ArgCondition[] = [],
  line = 1,
): PolicyRule {
  return craftedRule(syscalls, action, {
    conditions,
    layer: 'base',
    location: { file: 'base.yaml', line, column: 3 },
  });
}

/** Policy `base`: EPERM for unknown numbers too, and a foreign ABI's thread killed. */
function policyWith(rules: PolicyRule[], extra: Partial<ResolvedPolicy> = {}): ResolvedPolicy {
  return craftedPolicy(rules, {
    name: 'base',
    unknownAction: { kind: 'errno', errno: 1 },
    badArchAction: { kind: 'kill_thread' },
    layers: [{ name: 'base', file: 'base.yaml' }],
    ...extra,
  });
}

function exportError(policy: ResolvedPolicy): PolicyError {
  try {
    exportOci(policy);
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  assert.fail('expected a PolicyError');
}

/** Exports and imports back (as runc would read it on x86_64). */
function roundTrip(policy: ResolvedPolicy): ResolvedPolicy {
  return importOci(exportOci(policy).json, 'exported.json', X86_64).policy;
}

test('export → import keeps every decision of docker-default (default caps and with CAP_SYS_ADMIN)', () => {
  for (const caps of [DOCKER_DEFAULT_CAPS, [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN']]) {
    const imported = importOci(dockerProfile(), 'docker-default.json', { ...X86_64, caps }).policy;
    const { json, warnings } = exportOci(imported);
    assert.deepEqual(warnings, []);
    const profile = JSON.parse(json) as {
      defaultAction: string;
      defaultErrnoRet: number;
      architectures: string[];
      syscalls: unknown[];
    };
    assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(profile.defaultErrnoRet, 1);
    assert.deepEqual(profile.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assertSameDecisions(imported, roundTrip(imported));
  }
});

test('export groups syscalls by identical action and conditions and writes masked_eq as value=mask, valueTwo=datum', () => {
  const clone: ArgCondition = { index: 0, op: 'masked_eq', mask: 0x7e020000n, value: 0n, width: 64 };
  const big: ArgCondition = { index: 1, op: 'eq', value: 0xffffffffffffffffn, width: 64 };
  const policy = policyWith([
    rule(['read', 'write'], { kind: 'allow' }),
    rule(['close'], { kind: 'allow' }),
    rule(['clone'], { kind: 'allow' }, [clone]),
    rule(['ioctl'], { kind: 'trace', data: 9 }, [big]),
  ]);
  const { json } = exportOci(policy);
  assert.match(json, /"value": 18446744073709551615,/, '64-bit values are exact');
  const profile = JSON.parse(json.replace(/18446744073709551615/, '0')) as {
    syscalls: { names: string[]; action: string; errnoRet?: number; args?: object[] }[];
  };
  assert.deepEqual(
    profile.syscalls.map((s) => s.names),
    [['read', 'write', 'close'], ['clone'], ['ioctl']],
  );
  assert.deepEqual(profile.syscalls[1]?.args, [
    { index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' },
  ]);
  assert.equal(profile.syscalls[2]?.errnoRet, 9);
  assertSameDecisions(policy, roundTrip(policy));
});

test('export warns about what OCI cannot carry, naming the rule', () => {
  const narrowEq: ArgCondition = { index: 0, op: 'eq', value: 5n, width: 32 };
  const policy = policyWith(
    [rule(['close'], { kind: 'allow' }, [narrowEq], 7), rule(['kill'], { kind: 'trap', data: 4 }, [], 8)],
    {
      unknownAction: { kind: 'kill_process' },
      badArchAction: { kind: 'kill_process' },
    },
  );
  const { json, warnings } = exportOci(policy);
  assert.ok(
    warnings.some((w) => /^unknownAction kill_process is not carried/.test(w)),
    warnings.join('\n'),
  );
  assert.ok(warnings.some((w) => /^badArchAction kill_process is not carried/.test(w)));
  assert.ok(warnings.some((w) => /layer 'base' \(base\.yaml:7:3\).*masked_eq with mask 0xffffffff/.test(w)));
  assert.ok(warnings.some((w) => /base\.yaml:8:3.*trap data 4/.test(w)));
  assert.match(json, /"value": 4294967295,\s*"valueTwo": 5,/);
  // The 32-bit eq became an exact masked_eq: the upper half of the argument is ignored as before.
  const back = roundTrip(policy);
  assertSameDecisions(
    policyWith(policy.rules.slice(0, 1)),
    policyWith(back.rules.filter((r) => r.syscalls.includes('close'))),
  );
});

test('export fails rather than weaken: 32-bit ranges, one argument compared twice, order libseccomp would not keep', () => {
  const narrowLt: ArgCondition = { index: 0, op: 'lt', value: 5n, width: 32 };
  assert.match(
    exportError(policyWith([rule(['close'], { kind: 'allow' }, [narrowLt])])).message,
    /32-bit 'lt'/,
  );
  const range: ArgCondition[] = [
    { index: 0, op: 'ge', value: 5n, width: 64 },
    { index: 0, op: 'le', value: 9n, width: 64 },
  ];
  assert.match(
    exportError(policyWith([rule(['close'], { kind: 'allow' }, range)])).message,
    /compares one argument twice/,
  );
  const one: ArgCondition = { index: 0, op: 'eq', value: 1n, width: 64 };
  const beforeUnconditional = policyWith([
    rule(['close'], { kind: 'log' }, [one], 3),
    rule(['close'], { kind: 'allow' }, [], 4),
  ]);
  const error = exportError(beforeUnconditional);
  assert.match(error.message, /unconditional/);
  assert.equal(error.problems[0]?.location?.line, 3);
  // A default-action exception before a broader allow: runc drops the exception, so the allow would win.
  const lowFd: ArgCondition = { index: 0, op: 'le', value: 2n, width: 64 };
  const anyFd: ArgCondition = { index: 1, op: 'ne', value: 0n, width: 64 };
  const shadowed = policyWith([
    rule(['close'], { kind: 'errno', errno: 1 }, [lowFd]),
    rule(['close'], { kind: 'allow' }, [anyFd]),
  ]);
  assert.match(exportError(shadowed).message, /runc skips rules with the default action/);
  assert.match(exportError(policyWith([], { defaultAction: { kind: 'notify' } })).message, /notify/);
});

test('export drops what first-match never reaches and default-action rules runc would skip', () => {
  const one: ArgCondition = { index: 0, op: 'eq', value: 1n, width: 64 };
  const policy = policyWith([
    rule(['close'], { kind: 'allow' }),
    rule(['close'], { kind: 'kill_process' }, [one]),
    rule(['read'], { kind: 'errno', errno: 1 }, [one]),
    rule(['read'], { kind: 'allow' }, [{ index: 0, op: 'eq', value: 2n, width: 64 }]),
  ]);
  const { json } = exportOci(policy);
  assert.doesNotMatch(json, /KILL_PROCESS/);
  assertSameDecisions(policy, roundTrip(policy));
});

test('YAML output parses back (sysfence policy parser) to the same decisions', async () => {
  const imported = importOci(dockerProfile(), 'docker-default.json', X86_64).policy;
  const yaml = policyToYaml(imported);
  assert.match(yaml, /mask: 0x7e020000/);
  const reparsed = await parsePolicyText(yaml, 'docker-default.yaml');
  assertSameDecisions(imported, reparsed);
});

test('loadAnyPolicy detects OCI/Docker JSON and sysfence policies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-oci-'));
  const docker = await loadAnyPolicy(DOCKER_PROFILE_PATH, X86_64);
  assert.equal(docker.format, 'oci');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } } }));
  assert.equal((await loadAnyPolicy(config, X86_64)).format, 'oci');
  const yamlPath = join(dir, 'p.yaml');
  writeFileSync(yamlPath, policyToYaml(docker.policy));
  const native = await loadAnyPolicy(yamlPath);
  assert.equal(native.format, 'sysfence');
  assertSameDecisions(docker.policy, native.policy);
});

test('sysfence convert: Docker JSON → YAML → OCI JSON, warnings on stderr', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-convert-'));
  const yamlPath = join(dir, 'docker.yaml');
  const ociPath = join(dir, 'docker-oci.json');
  const stderr: string[] = [];
  const io = { stdout: () => undefined, stderr: (text: string) => void stderr.push(text) };
  const common = ['--arch', 'x86_64', '--kernel', '6.8', '--caps', 'default,sys_admin'];
  assert.equal(
    await main(['convert', DOCKER_PROFILE_PATH, '--to', 'yaml', '-o', yamlPath, ...common], io),
    0,
  );
  assert.ok(stderr.some((line) => line.startsWith('warning: ') && /ENOSYS stub/.test(line)));
  assert.equal(await main(['convert', yamlPath, '--to', 'oci', '-o', ociPath], io), 0);
  const viaCli = importOci(readFileSync(ociPath, 'utf8'), 'docker-oci.json', X86_64).policy;
  const direct = importOci(dockerProfile(), 'docker-default.json', {
    ...X86_64,
    caps: [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN'],
  }).policy;
  assertSameDecisions(direct, viaCli);
  assert.equal(await main(['convert', DOCKER_PROFILE_PATH, '--to', 'xml'], io), 2);
});
