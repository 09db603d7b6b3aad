import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { importOci } from '../../src/formats/oci-import.js';
import { exportSpo } from '../../src/formats/spo-export.js';
import { importSpo, type SpoSourceText } from '../../src/formats/spo-import.js';
import { PolicyError } from '../../src/policy/errors.js';
import { decide } from '../../src/policy/evaluate.js';
import type { ResolvedPolicy } from '../../src/policy/ir.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { syscallNumber } from '../../src/syscalls/arch.js';
import { assertNoDiff } from './firecracker-oracles.js';

const K8S = 'test/fixtures/k8s';
const RECORDED = `${K8S}/recorded-profile.yaml`;
const IMPORT = { arch: 'x86_64', kernelVersion: '6.8' } as const;

function recorded(): SpoSourceText[] {
  return [{ file: RECORDED, text: readFileSync(RECORDED, 'utf8') }];
}

/** Kubernetes' structural schemas carry x-kubernetes-* vendor keywords and int32/int64 formats. */
function ajv(): Ajv {
  const instance = new Ajv({ allErrors: true, strict: true, validateFormats: false });
  for (const keyword of ['x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-unions'])
    instance.addKeyword(keyword);
  for (const format of ['int32', 'int64', 'date-time']) instance.addFormat(format, true);
  return instance;
}

/** The vendored SeccompProfile v1 openAPIV3Schema, closed like the API server's pruning would make it. */
function crdValidator(): ValidateFunction {
  const schema = parse(readFileSync(`${K8S}/seccompprofile-v1-openapi.yaml`, 'utf8')) as Record<
    string,
    unknown
  >;
  return ajv().compile(closeObjects(schema) as Record<string, unknown>);
}

/** additionalProperties: false on every object schema listing properties (strict field validation). */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (typeof schema !== 'object' || schema === null) return schema;
  const entries = Object.entries(schema).map(([key, value]) => [
    key,
    key === 'properties'
      ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, closeObjects(v)]))
      : closeObjects(value),
  ]);
  const result = Object.fromEntries(entries) as Record<string, unknown>;
  const open = result['properties'] === undefined || (result['properties'] as object) === null;
  return open || result['type'] !== 'object' ? result : { ...result, additionalProperties: false };
}

function podSecurityContextValidator(): ValidateFunction {
  const vendored = JSON.parse(readFileSync(`${K8S}/core-v1-security-context.json`, 'utf8')) as {
    definitions: Record<string, unknown>;
  };
  const definitions = closeObjects(vendored.definitions) as Record<string, unknown>;
  return ajv().compile({ definitions, $ref: '#/definitions/io.k8s.api.core.v1.PodSecurityContext' });
}

function assertValid(validate: ValidateFunction, value: unknown, what: string): void {
  const ok = validate(value);
  assert.ok(ok, `${what}: ${JSON.stringify(validate.errors)}`);
}

function manifests(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text, { intAsBigInt: false }).map(
    (document) => document.toJS() as Record<string, unknown>,
  );
}

function allow(policy: ResolvedPolicy, name: string, args: readonly bigint[] = []): string {
  return decide(policy, 'x86_64', syscallNumber('x86_64', name) as number, args).action.kind;
}

test('a recorded profile on a base in the same file: layers, locations, base rules, runc semantics', () => {
  const { policy, warnings } = importSpo(recorded(), IMPORT);
  assert.equal(policy.name, 'nginx-recording-nginx');
  assert.deepEqual(
    policy.layers.map((layer) => layer.name),
    ['nginx-recording-nginx', 'runc-base'],
  );
  assert.deepEqual(policy.defaultAction, { kind: 'errno', errno: 1 });
  assert.equal(allow(policy, 'sendfile'), 'allow');
  assert.equal(allow(policy, 'execve'), 'allow');
  assert.equal(allow(policy, 'ptrace'), 'errno');
  assert.equal(allow(policy, 'personality', [0n]), 'allow');
  assert.equal(allow(policy, 'personality', [8n]), 'errno');
  const clone3 = policy.rules.find((rule) => rule.syscalls.includes('clone3'));
  assert.deepEqual(clone3?.action, { kind: 'errno', errno: 38 });
  assert.equal(clone3?.layer, 'runc-base');
  assert.equal(clone3?.location.line, 65);
  assert.equal(policy.rules.find((rule) => rule.syscalls.includes('sendfile'))?.location.line, 17);
  assert.ok(
    warnings.every((w) => !w.includes('merged)')),
    warnings.join('\n'),
  );
});

test('exported manifests validate against the vendored SPO v1 CRD schema; the Pod patch against PodSecurityContext', () => {
  const { policy } = importSpo(recorded(), IMPORT);
  const validate = crdValidator();
  for (const layered of [true, false]) {
    const exported = exportSpo(policy, { layered });
    const documents = manifests(exported.text);
    assert.equal(documents.length, layered ? 2 : 1);
    for (const document of documents) assertValid(validate, document, `layered=${String(layered)}`);
  }
  const exported = exportSpo(policy);
  assert.equal(exported.localhostProfile, 'operator/nginx-recording-nginx.json');
  const podPatch = parse(exported.files.find((file) => file.path === 'pod-patch.yaml')?.text ?? '') as {
    spec: { securityContext: unknown };
  };
  assertValid(podSecurityContextValidator(), podPatch.spec.securityContext, 'pod patch');
  assert.deepEqual(podPatch.spec.securityContext, {
    seccompProfile: { type: 'Localhost', localhostProfile: 'operator/nginx-recording-nginx.json' },
  });
  const deployment = parse(
    exported.files.find((file) => file.path === 'deployment-patch.yaml')?.text ?? '',
  ) as { spec: { template: { spec: { securityContext: unknown } } } };
  assertValid(
    podSecurityContextValidator(),
    deployment.spec.template.spec.securityContext,
    'deployment patch',
  );
  // The validators can fail: a wrong type or an unknown field is rejected.
  assert.equal(
    crdValidator()({ apiVersion: 'x', kind: 'SeccompProfile', spec: { defaultAction: 'SCMP_ACT_NOPE' } }),
    false,
  );
  assert.equal(podSecurityContextValidator()({ seccompProfile: { localhostProfile: 'a.json' } }), false);
});

test('layered export names the base; both modes and the node file round-trip with an empty diff', () => {
  const { policy } = importSpo(recorded(), IMPORT);
  const layered = exportSpo(policy, { layered: true });
  const [base, top] = manifests(layered.text);
  assert.equal((top?.['spec'] as Record<string, unknown>)['baseProfileName'], 'runc-base');
  assert.equal((base?.['metadata'] as Record<string, unknown>)['name'], 'runc-base');
  const again = importSpo([{ file: 'out.yaml', text: layered.text }], IMPORT).policy;
  assert.deepEqual(
    again.layers.map((layer) => layer.name),
    ['nginx-recording-nginx', 'runc-base'],
  );
  assertNoDiff(policy, again);
  const flat = importSpo(
    [{ file: 'flat.yaml', text: exportSpo(policy, { layered: false }).text }],
    IMPORT,
  ).policy;
  assertNoDiff(policy, flat);
  const nodeFile = layered.files.find(
    (file) => file.path === 'kubelet-seccomp/operator/nginx-recording-nginx.json',
  );
  assert.ok(nodeFile !== undefined);
  assertNoDiff(policy, importOci(nodeFile.text, 'node.json', IMPORT).policy);
});

test('a namespaced v1beta1 export uses operator/NAMESPACE/NAME.json and reads back', () => {
  const { policy } = importSpo(recorded(), IMPORT);
  const exported = exportSpo(policy, { namespace: 'web' });
  assert.equal(exported.localhostProfile, 'operator/web/nginx-recording-nginx.json');
  const documents = manifests(exported.text);
  assert.ok(
    documents.every((document) => document['apiVersion'] === 'security-profiles-operator.x-k8s.io/v1beta1'),
  );
  assertNoDiff(policy, importSpo([{ file: 'ns.yaml', text: exported.text }], IMPORT).policy);
});

test('a sysfence policy with extends exports one SeccompProfile per layer', async () => {
  const files: Record<string, string> = {
    'base.yaml':
      'name: base\narchitectures: [x86_64]\ndefaultAction: errno(EPERM)\nrules:\n  - {syscalls: [read, write, exit_group], action: allow, reason: io}\n',
    'app.yaml':
      'name: App_Server\nextends: [base.yaml]\nrules:\n  - {syscalls: [socket], action: allow, args: [{index: 0, op: eq, value: 2}], reason: inet}\n',
  };
  const policy = await parsePolicyText(files['app.yaml'] ?? '', 'app.yaml', (file) => files[file] ?? '');
  const exported = exportSpo(policy);
  const documents = manifests(exported.text);
  assert.deepEqual(
    documents.map((d) => (d['metadata'] as Record<string, unknown>)['name']),
    ['base', 'app-server'],
  );
  const validate = crdValidator();
  for (const document of documents) assertValid(validate, document, 'extends export');
  const back = importSpo([{ file: 'x.yaml', text: exported.text }], IMPORT).policy;
  assert.equal(allow(back, 'socket', [2n]), 'allow');
  assert.equal(allow(back, 'socket', [10n]), 'errno');
  assert.equal(allow(back, 'read'), 'allow');
});

function error(run: () => unknown): PolicyError {
  try {
    run();
  } catch (caught) {
    if (caught instanceof PolicyError) return caught;
    throw caught;
  }
  assert.fail('expected a PolicyError');
}

test('refused: a layer overriding its base, a missing or remote base, values beyond int64', async () => {
  const conflicting = readFileSync(RECORDED, 'utf8')
    .replace('    - getpid\n', '')
    .replace(
      '  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names:\n    - accept4',
      '  syscalls:\n  - action: SCMP_ACT_ERRNO\n    names:\n    - brk\n  - action: SCMP_ACT_ALLOW\n    names:\n    - accept4',
    );
  assert.match(
    error(() => importSpo([{ file: 'c.yaml', text: conflicting }], IMPORT)).message,
    /'brk' has action SCMP_ACT_ERRNO in nginx-recording-nginx but SCMP_ACT_ALLOW in its base runc-base/,
  );
  const missing = readFileSync(RECORDED, 'utf8').split('\n---\n')[0] ?? '';
  const missingError = error(() => importSpo([{ file: 'm.yaml', text: missing }], IMPORT));
  assert.match(missingError.message, /base profile 'runc-base' \(namespace web\) is not in the given files/);
  assert.equal(missingError.problems[0]?.location?.line, 14);
  assert.match(
    error(() =>
      importSpo(
        [
          {
            file: 'o.yaml',
            text: missing.replace('baseProfileName: runc-base', 'baseProfileName: oci://ghcr.io/x/y:1'),
          },
        ],
        IMPORT,
      ),
    ).message,
    /OCI artifact/,
  );
  const files: Record<string, string> = {
    'base.yaml':
      'name: base\narchitectures: [x86_64]\ndefaultAction: errno(EPERM)\nrules:\n  - {syscalls: [ptrace], action: allow, reason: dbg}\n',
    'top.yaml':
      'name: top\nextends: [base.yaml]\nrules:\n  - {syscalls: [ptrace], action: errno(EACCES), reason: no}\n  - {syscalls: [ioctl], action: allow, args: [{index: 1, op: eq, value: 0xffffffffffffffff}], reason: big}\n',
  };
  const policy = await parsePolicyText(files['top.yaml'] ?? '', 'top.yaml', (file) => files[file] ?? '');
  assert.match(error(() => exportSpo(policy, { layered: false })).message, /int64/);
  const layers = await parsePolicyText(
    (files['top.yaml'] ?? '').replace(/ {2}- \{syscalls: \[ioctl\].*\n/, ''),
    'top.yaml',
    (file) => files[file] ?? '',
  );
  assert.match(error(() => exportSpo(layers)).message, /SPO unions base profiles/);
  assert.doesNotThrow(() => exportSpo(layers, { layered: false }));
});

test('loadAnyPolicy detects SPO YAML and finds a base profile in a sibling file', async () => {
  const { loadAnyPolicy } = await import('../../src/formats/load.js');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const [top, base] = readFileSync(RECORDED, 'utf8').split('\n---\n');
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-spo-'));
  try {
    writeFileSync(join(dir, 'app.yaml'), top ?? '');
    writeFileSync(join(dir, 'runc-base.yaml'), base ?? '');
    writeFileSync(join(dir, 'unrelated.yaml'), 'name: x\n');
    const loaded = await loadAnyPolicy(join(dir, 'app.yaml'), IMPORT);
    assert.equal(loaded.format, 'spo');
    assertNoDiff(loaded.policy, importSpo(recorded(), IMPORT).policy);
    assert.equal(loaded.policy.layers[1]?.file, join(dir, 'runc-base.yaml'));
    const baseOnly = await loadAnyPolicy(RECORDED, { ...IMPORT, spoProfile: 'runc-base' });
    assert.deepEqual(
      baseOnly.policy.layers.map((layer) => layer.name),
      ['runc-base'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
