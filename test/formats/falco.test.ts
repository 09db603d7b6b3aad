import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import {
  exportFalcoRules,
  FALCO_PRIORITY,
  MONITOR_DEFAULTS,
  MONITOR_RULE_IDS,
  UNLISTED_RULE_ID,
} from '../../src/formats/falco.js';
import { BUILTIN_RULE_IDS } from '../../src/monitor/alert.js';
import { ruleDefinition } from '../../src/monitor/rules/index.js';
import { PolicyError } from '../../src/policy/errors.js';
import { loadPolicy } from '../../src/policy/load.js';
import { validateFalcoRules } from './falco-validate.js';
import { craftedPolicy, craftedRule } from './support.js';

interface Item {
  readonly rule?: string;
  readonly macro?: string;
  readonly list?: string;
  readonly items?: string[];
  readonly condition?: string;
  readonly output?: string;
  readonly priority?: string;
  readonly tags?: string[];
}

function items(text: string): Item[] {
  return parse(text) as Item[];
}

function ruleTagged(text: string, id: string): Item {
  const found = items(text).find((item) => item.rule !== undefined && item.tags?.includes(id));
  assert.ok(found !== undefined, `no rule tagged ${id}`);
  return found;
}

function listItems(text: string, name: string): string[] {
  const found = items(text).find((item) => item.list === name);
  assert.ok(found?.items !== undefined, `no list ${name}`);
  return found.items;
}

const SEVERITY_TO_PRIORITY: Readonly<Record<string, string>> = {
  critical: 'CRITICAL',
  high: 'ERROR',
  warning: 'WARNING',
  info: 'INFORMATIONAL',
};

test('the web example exports rules that pass the structural check', async () => {
  const policy = await loadPolicy('examples/web/exceptions.yaml');
  const { text, warnings } = exportFalcoRules(policy, {
    exe: ['/usr/sbin/nginx'],
    containerImages: ['registry.example/web'],
  });
  assert.deepEqual(validateFalcoRules(text), []);
  for (const item of items(text).filter((i) => i.rule !== undefined)) {
    assert.ok(item.tags?.includes('sysfence'), `${item.rule} lacks the sysfence tag`);
  }
  const unlisted = listItems(text, 'sysfence_unlisted_syscalls');
  for (const name of ['ptrace', 'mount', 'socket', 'clone', 'personality', 'bpf'])
    assert.ok(unlisted.includes(name), name);
  for (const name of ['read', 'write', 'openat', 'execve', 'accept4'])
    assert.ok(!unlisted.includes(name), name);
  assert.match(ruleTagged(text, UNLISTED_RULE_ID).condition ?? '', /and sysfence_workload$/);
  assert.ok(
    warnings.some(
      (w) =>
        w.startsWith("rule of layer 'web'") && w.includes('socket allowed only under argument conditions'),
    ),
  );
});

test("every monitor rule is exported or named in a warning, with the monitor's priority", async () => {
  assert.deepEqual([...MONITOR_RULE_IDS], [...BUILTIN_RULE_IDS]);
  const { text, warnings } = exportFalcoRules(await loadPolicy('examples/web/exceptions.yaml'));
  for (const id of BUILTIN_RULE_IDS) {
    const exported = items(text).find((item) => item.tags?.includes(id));
    const skipped = warnings.find((w) => w.startsWith(`${id}: not exported:`));
    assert.ok((exported === undefined) !== (skipped === undefined), `${id}: exported xor warned`);
    if (exported !== undefined) {
      assert.equal(exported.priority, SEVERITY_TO_PRIORITY[ruleDefinition(id)?.defaultSeverity ?? '']);
      assert.equal(exported.priority, FALCO_PRIORITY[id as keyof typeof FALCO_PRIORITY]);
    }
  }
  for (const id of ['rate-breaker', 'baseline-deviation', 'spawn-burst'])
    assert.ok(warnings.some((w) => w.startsWith(`${id}: not exported:`)));
  for (const id of ['dropper-exec', 'time-tamper'])
    assert.ok(warnings.some((w) => w.startsWith(`${id}: approximated:`)));
});

test("the name lists are the monitor's defaults", () => {
  const defaults = (id: (typeof BUILTIN_RULE_IDS)[number], name: string): unknown =>
    ruleDefinition(id)?.params.find((param) => param.name === name)?.defaultValue;
  assert.deepEqual([...MONITOR_DEFAULTS.writableDirs], defaults('dropper-exec', 'writableDirs'));
  assert.deepEqual([...MONITOR_DEFAULTS.servers], defaults('vfork-exec', 'servers'));
  assert.deepEqual([...MONITOR_DEFAULTS.interpreters], defaults('vfork-exec', 'interpreters'));
  assert.deepEqual([...MONITOR_DEFAULTS.timeDaemons], defaults('time-tamper', 'timeDaemons'));
});

test('the behaviour rules say what they check', () => {
  const { text } = exportFalcoRules(craftedPolicy([craftedRule(['read'])]));
  assert.match(
    ruleTagged(text, 'dropper-exec').condition ?? '',
    /proc\.exepath pmatch \(sysfence_writable_dirs\)/,
  );
  const vfork = ruleTagged(text, 'vfork-exec').condition ?? '';
  assert.match(vfork, /proc\.pname in \(sysfence_servers\) or proc\.pname startswith php-fpm/);
  assert.match(vfork, /proc\.name startswith python/);
  assert.ok(!listItems(text, 'sysfence_interpreters').some((name) => name.includes('*')));
  const ptraceMacro = items(text).find((item) => item.macro === 'sysfence_ptrace_injection');
  for (const request of [
    'PTRACE_ATTACH',
    'PTRACE_SEIZE',
    'PTRACE_POKETEXT',
    'PTRACE_POKEDATA',
    'PTRACE_SETREGS',
  ])
    assert.ok(ptraceMacro?.condition?.includes(`evt.arg.request contains ${request}`), request);
  assert.match(
    ruleTagged(text, 'time-tamper').condition ?? '',
    /not proc\.exepath in \(sysfence_time_daemons\)/,
  );
});

test('without a workload the unlisted rule is host-wide, and says so', () => {
  const { text, warnings } = exportFalcoRules(craftedPolicy([craftedRule(['read'])]));
  assert.equal(
    ruleTagged(text, UNLISTED_RULE_ID).condition,
    'evt.dir=< and evt.type in (sysfence_unlisted_syscalls)',
  );
  assert.ok(warnings.some((w) => w.startsWith(`${UNLISTED_RULE_ID}: no exe or container image given`)));
  assert.deepEqual(validateFalcoRules(text), []);
});

test('an aarch64 policy lists aarch64 names; a deny-list policy lists only what it denies', () => {
  const arm = exportFalcoRules(craftedPolicy([craftedRule(['read'])], { architectures: ['aarch64'] }));
  const names = listItems(arm.text, 'sysfence_unlisted_syscalls');
  assert.ok(!names.includes('open') && names.includes('openat') && !names.includes('read'));
  const denyList = craftedPolicy([craftedRule(['mount'], { kind: 'errno', errno: 1 })], {
    defaultAction: { kind: 'allow' },
  });
  assert.deepEqual(listItems(exportFalcoRules(denyList).text, 'sysfence_unlisted_syscalls'), ['mount']);
});

test('values that would change a condition are refused; the policy name cannot inject fields', () => {
  assert.throws(() => exportFalcoRules(craftedPolicy([]), { exe: ['/usr/bin/a b'] }), PolicyError);
  assert.throws(() => exportFalcoRules(craftedPolicy([]), { exe: ['/x) or (proc.pid'] }), PolicyError);
  assert.throws(() => exportFalcoRules(craftedPolicy([]), { containerImages: ['img,other'] }), PolicyError);
  const { text } = exportFalcoRules(craftedPolicy([], { name: 'x %proc.env\n- rule: evil' }));
  assert.deepEqual(validateFalcoRules(text), []);
  assert.ok(!text.includes('%proc.env'));
  assert.ok(!/^- rule: evil/m.test(text));
});

test('the structural check rejects broken rules, so it can fail', () => {
  const good = exportFalcoRules(craftedPolicy([craftedRule(['read'])])).text;
  const broken: ReadonlyArray<readonly [string, RegExp]> = [
    [
      good.replace('proc.is_exe_upper_layer=true', 'proc.is_exe_upperlayer=true'),
      /unknown field 'proc.is_exe_upperlayer'/,
    ],
    [
      good.replace('condition: sysfence_ptrace_injection', 'condition: sysfence_ptrace_injected'),
      /macro 'sysfence_ptrace_injected' is not defined/,
    ],
    [
      good.replace('(sysfence_writable_dirs)', '(sysfence_writable_dir)'),
      /list 'sysfence_writable_dir' is not defined/,
    ],
    [good.replace('evt.res=SUCCESS)', 'evt.res=SUCCESS'), /unbalanced parentheses/],
    [good.replace(/^ {2}priority: CRITICAL\n/m, ''), /missing 'priority'/],
    [good.replace('(res=%evt.res', '(res=%evt.result'), /unknown field 'evt.result'/],
    [good.replace('evt.dir=< and evt.type in', 'evt.dir=< and and evt.type in'), /unexpected 'and'/],
  ];
  for (const [text, problem] of broken) {
    assert.notEqual(text, good);
    const problems = validateFalcoRules(text);
    assert.ok(
      problems.some((p) => problem.test(p)),
      `${problem} not among ${JSON.stringify(problems)}`,
    );
  }
});

test('every bundled example layer exports Falco rules that pass the structural check', async () => {
  for (const layer of ['base', 'web', 'region-eu', 'exceptions']) {
    const policy = await loadPolicy(`examples/web/${layer}.yaml`);
    assert.deepEqual(
      validateFalcoRules(exportFalcoRules(policy, { exe: ['/usr/sbin/nginx'] }).text),
      [],
      layer,
    );
  }
});
