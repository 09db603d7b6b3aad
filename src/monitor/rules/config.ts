/**
 * The rules file (`--rules RULES.yaml`): per built-in rule, whether it runs, dry-run, severity, its
 * thresholds, exceptions and the escalation of responses; plus the pipeline's bounds. Parsed with
 * located errors (file:line:col, as policies are); an unknown key or rule is an error, never ignored,
 * because a typo in `exceptions` or `threshold` would silently change what the monitor catches.
 *
 *   pipeline: { reorderWindowMs: 2000, reorderMaxEvents: 10000, queueCapacity: 65536 }
 *   rules:
 *     rate-breaker:
 *       threshold: 50
 *       windowSeconds: 60
 *       severity: high
 *       dryRun: false
 *       responses: [alert, freeze, kill]   # 1st alert, 2nd alert, 3rd+ alert of a process
 *       thawAfterSeconds: 300
 *       exceptions: [{ exe: /usr/bin/gdb }, { comm: backup, uid: 0 }]
 */
import { readFile } from 'node:fs/promises';
import type { Node } from 'yaml';
import { ProblemList } from '../../policy/problems.js';
import { didYouMean } from '../../policy/suggest.js';
import { YamlSource, type YamlField } from '../../policy/yaml-source.js';
import type { SyscallEvent } from '../../sources/event.js';
import { SEVERITIES, type BuiltinRuleId, type Severity } from '../alert.js';
import { BUILTIN_RULES, ruleDefinition } from './index.js';
import { RuleParams, type ParamSpec, type ParamValue, type RuleDefinition } from './rule.js';

export type ResponseStep = 'alert' | 'freeze' | 'kill';
export const RESPONSE_STEPS: readonly ResponseStep[] = ['alert', 'freeze', 'kill'];

/** Events a rule ignores: every field given must match (exe and comm exactly, container by id or prefix). */
export interface RuleException {
  readonly exe?: string;
  readonly comm?: string;
  readonly container?: string;
  readonly uid?: number;
}

export interface RuleSettings {
  readonly definition: RuleDefinition;
  readonly enabled: boolean;
  readonly dryRun: boolean;
  readonly severity: Severity;
  /** The nth alert of a process takes responses[n-1]; past the end, the last one. */
  readonly responses: readonly ResponseStep[];
  /** Thaw a frozen process after this long; undefined: stay frozen. */
  readonly thawAfterMs?: number;
  readonly exceptions: readonly RuleException[];
  readonly params: RuleParams;
}

export interface PipelineSettings {
  /** Events are held this long (event time) so late ones can be put in order. */
  readonly reorderWindowMs: number;
  /** ...but never more than this many at once. */
  readonly reorderMaxEvents: number;
  /** Events waiting between the sources and the rules; beyond it, live sources' events are dropped (counted). */
  readonly queueCapacity: number;
}

export interface MonitorConfig {
  readonly pipeline: PipelineSettings;
  /** Every built-in rule, in BUILTIN_RULE_IDS order. */
  readonly rules: readonly RuleSettings[];
}

export const DEFAULT_PIPELINE: PipelineSettings = {
  reorderWindowMs: 2000,
  reorderMaxEvents: 10_000,
  queueCapacity: 65_536,
};

const COMMON_KEYS = ['enabled', 'dryRun', 'severity', 'responses', 'thawAfterSeconds', 'exceptions'] as const;
const EXCEPTION_KEYS = ['exe', 'comm', 'container', 'uid'] as const;
const PIPELINE_KEYS = ['reorderWindowMs', 'reorderMaxEvents', 'queueCapacity'] as const;
const TOP_KEYS = ['pipeline', 'rules'] as const;
const MAX_UID = 0xffffffff;
/** The shortest container id prefix accepted (docker's short form). */
const SHORT_CONTAINER_ID = 12;

/** Settings of a rule as the defaults have them. */
function defaultSettings(definition: RuleDefinition): RuleSettings {
  return {
    definition,
    enabled: true,
    dryRun: false,
    severity: definition.defaultSeverity,
    responses: ['alert'],
    exceptions: [],
    params: RuleParams.resolve(definition.params, new Map()),
  };
}

/** Every built-in rule enabled with its defaults: alerts only, no freeze or kill. */
export function defaultMonitorConfig(): MonitorConfig {
  return { pipeline: DEFAULT_PIPELINE, rules: BUILTIN_RULES.map(defaultSettings) };
}

/** True when the event falls under one of the exceptions. */
export function isExcepted(event: SyscallEvent, exceptions: readonly RuleException[]): boolean {
  return exceptions.some(
    (exception) =>
      (exception.exe === undefined || exception.exe === event.exe) &&
      (exception.comm === undefined || exception.comm === event.comm) &&
      (exception.uid === undefined || exception.uid === event.uid) &&
      (exception.container === undefined ||
        (event.containerId !== undefined && event.containerId.startsWith(exception.container))),
  );
}

/** Reads a rules file; a PolicyError listing every located problem when it is not valid. */
export async function loadMonitorConfig(path: string): Promise<MonitorConfig> {
  return parseMonitorConfig(await readFile(path, 'utf8'), path);
}

/** Parses rules-file text; throws a PolicyError (file:line:col for each problem). */
export function parseMonitorConfig(text: string, file: string): MonitorConfig {
  const problems = new ProblemList();
  const source = YamlSource.parse(text, file, problems);
  const config = source === undefined ? undefined : new ConfigParser(source).parse();
  problems.throwIfAny();
  return config ?? defaultMonitorConfig();
}

class ConfigParser {
  constructor(private readonly source: YamlSource) {}

  parse(): MonitorConfig {
    const root = this.source.root;
    if (root === null) return defaultMonitorConfig();
    const fields = this.source.fields(root, 'a rules file', TOP_KEYS) ?? new Map<string, YamlField>();
    const pipeline = this.pipeline(fields.get('pipeline'));
    const overrides = this.ruleOverrides(fields.get('rules'));
    return {
      pipeline,
      rules: BUILTIN_RULES.map((definition) => overrides.get(definition.id) ?? defaultSettings(definition)),
    };
  }

  private pipeline(field: YamlField | undefined): PipelineSettings {
    if (field === undefined) return DEFAULT_PIPELINE;
    const fields = this.source.fields(field.value, 'pipeline', PIPELINE_KEYS);
    const integer = (key: string, fallback: number, min: number, max: number): number => {
      const value = fields?.get(key);
      return value === undefined ? fallback : (this.source.integer(value.value, key, min, max) ?? fallback);
    };
    return {
      reorderWindowMs: integer('reorderWindowMs', DEFAULT_PIPELINE.reorderWindowMs, 0, 600_000),
      reorderMaxEvents: integer('reorderMaxEvents', DEFAULT_PIPELINE.reorderMaxEvents, 1, 10_000_000),
      queueCapacity: integer('queueCapacity', DEFAULT_PIPELINE.queueCapacity, 1, 100_000_000),
    };
  }

  private ruleOverrides(field: YamlField | undefined): Map<BuiltinRuleId, RuleSettings> {
    const overrides = new Map<BuiltinRuleId, RuleSettings>();
    if (field === undefined) return overrides;
    const ids = BUILTIN_RULES.map((rule) => rule.id);
    const entries = this.source.fields(field.value, 'rules', ids) ?? new Map<string, YamlField>();
    for (const [id, entry] of entries) {
      const definition = ruleDefinition(id);
      if (definition !== undefined) overrides.set(definition.id, this.rule(definition, entry.value));
    }
    return overrides;
  }

  private rule(definition: RuleDefinition, node: Node | null): RuleSettings {
    const defaults = defaultSettings(definition);
    if (node === null) return defaults;
    const allowed = [...COMMON_KEYS, ...definition.params.map((param) => param.name)];
    const fields = this.source.fields(node, `rule '${definition.id}'`, allowed);
    if (fields === undefined) return defaults;
    const params = new Map<string, ParamValue>();
    for (const spec of definition.params) {
      const value = fields.get(spec.name);
      const parsed = value === undefined ? undefined : this.param(spec, value.value);
      if (parsed !== undefined) params.set(spec.name, parsed);
    }
    const thaw = fields.get('thawAfterSeconds');
    const thawSeconds =
      thaw === undefined ? undefined : this.source.integer(thaw.value, 'thawAfterSeconds', 1, 604_800);
    return {
      definition,
      enabled: this.boolean(fields.get('enabled'), 'enabled') ?? defaults.enabled,
      dryRun: this.boolean(fields.get('dryRun'), 'dryRun') ?? defaults.dryRun,
      severity: this.severity(fields.get('severity')) ?? defaults.severity,
      responses: this.responses(fields.get('responses')) ?? defaults.responses,
      ...(thawSeconds === undefined ? {} : { thawAfterMs: thawSeconds * 1000 }),
      exceptions: this.exceptions(fields.get('exceptions')),
      params: RuleParams.resolve(definition.params, params),
    };
  }

  private param(spec: ParamSpec, node: Node | null): ParamValue | undefined {
    if (spec.kind === 'names') return this.source.textList(node, spec.name)?.map((entry) => entry.text);
    const min = spec.min ?? 0;
    const max = spec.max ?? Number.MAX_SAFE_INTEGER;
    if (spec.kind === 'integer') return this.source.integer(node, spec.name, min, max);
    const value = this.source.scalar(node);
    const number = typeof value === 'bigint' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number) || number < min || number > max) {
      this.source.report(node, `${spec.name} must be a number ${min}..${max}`);
      return undefined;
    }
    return number;
  }

  private boolean(field: YamlField | undefined, what: string): boolean | undefined {
    if (field === undefined) return undefined;
    const value = this.source.scalar(field.value);
    if (typeof value === 'boolean') return value;
    this.source.report(field.value, `${what} must be true or false`);
    return undefined;
  }

  private severity(field: YamlField | undefined): Severity | undefined {
    if (field === undefined) return undefined;
    const text = this.source.text(field.value, 'severity');
    const severity = SEVERITIES.find((candidate) => candidate === text);
    if (text !== undefined && severity === undefined) {
      this.source.report(field.value, `unknown severity '${text}'`, `one of: ${SEVERITIES.join(', ')}`);
    }
    return severity;
  }

  private responses(field: YamlField | undefined): readonly ResponseStep[] | undefined {
    if (field === undefined) return undefined;
    const entries = this.source.textList(field.value, 'responses');
    if (entries === undefined) return undefined;
    if (entries.length === 0) {
      this.source.report(field.value, 'responses must list at least one of alert, freeze, kill');
      return undefined;
    }
    const steps: ResponseStep[] = [];
    for (const { text, node } of entries) {
      const step = RESPONSE_STEPS.find((candidate) => candidate === text);
      if (step === undefined) {
        this.source.report(
          node,
          `unknown response '${text}'`,
          didYouMean(text, RESPONSE_STEPS) ?? `one of: ${RESPONSE_STEPS.join(', ')}`,
        );
      } else steps.push(step);
    }
    return steps.length === entries.length ? steps : undefined;
  }

  private exceptions(field: YamlField | undefined): readonly RuleException[] {
    if (field === undefined) return [];
    const items = this.source.list(field.value, 'exceptions') ?? [];
    const exceptions: RuleException[] = [];
    for (const item of items) {
      const exception = this.exception(item);
      if (exception !== undefined) exceptions.push(exception);
    }
    return exceptions;
  }

  private exception(node: Node | null): RuleException | undefined {
    const fields = this.source.fields(node, 'an exception', EXCEPTION_KEYS);
    if (fields === undefined) return undefined;
    if (fields.size === 0) {
      // An empty exception would match every event and silently disable the rule.
      this.source.report(node, 'an exception must name at least one of exe, comm, container, uid');
      return undefined;
    }
    const text = (key: string): string | undefined => {
      const field = fields.get(key);
      return field === undefined ? undefined : this.source.text(field.value, key);
    };
    const exe = text('exe');
    const comm = text('comm');
    const container = text('container');
    const uidField = fields.get('uid');
    const uid = uidField === undefined ? undefined : this.source.integer(uidField.value, 'uid', 0, MAX_UID);
    if (container !== undefined && container.length < SHORT_CONTAINER_ID) {
      this.source.report(
        fields.get('container')?.value,
        `container must be an id of at least ${SHORT_CONTAINER_ID} characters`,
      );
    }
    const exception: RuleException = {
      ...(exe === undefined ? {} : { exe }),
      ...(comm === undefined ? {} : { comm }),
      ...(container === undefined ? {} : { container }),
      ...(uid === undefined ? {} : { uid }),
    };
    return exception;
  }
}
