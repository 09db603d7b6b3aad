/**
 * Writing a resolved policy as sysfence policy YAML (the format src/policy/parse.ts reads), so an
 * imported OCI / Docker profile can be reviewed, layered and edited like any other policy. Used by
 * `sysfence convert --to yaml`; the result parses back to the same decisions.
 */
import { Document, Scalar } from 'yaml';
import { formatAction, type Action } from '../policy/action.js';
import type { ArgCondition, PolicyRule, ResolvedPolicy } from '../policy/ir.js';
import { errnoName } from '../syscalls/errno.js';

function actionText(action: Action): string {
  return formatAction(action, errnoName);
}

/** Masks read better in hex (0x7e020000 is CLONE_NEW* flags; 2114060288 is nothing to a reviewer). */
function hex(value: bigint): Scalar {
  const scalar = new Scalar(value);
  scalar.format = 'HEX';
  return scalar;
}

function conditionNode(condition: ArgCondition): Record<string, unknown> {
  return {
    index: condition.index,
    op: condition.op,
    value: condition.op === 'masked_eq' ? hex(condition.value) : condition.value,
    ...(condition.mask === undefined ? {} : { mask: hex(condition.mask) }),
    width: condition.width,
  };
}

function ruleNode(rule: PolicyRule): Record<string, unknown> {
  return {
    syscalls: [...rule.syscalls],
    action: actionText(rule.action),
    ...(rule.conditions.length === 0 ? {} : { args: rule.conditions.map(conditionNode) }),
    reason: rule.reason,
    ...(rule.tier === 'required' ? {} : { tier: rule.tier }),
    ...(rule.expires === undefined ? {} : { expires: rule.expires }),
    ...(rule.ticket === undefined ? {} : { ticket: rule.ticket }),
  };
}

/** The policy as one self-contained YAML document (layers already merged; no `extends`). */
export function policyToYaml(policy: ResolvedPolicy): string {
  const document = new Document({
    name: policy.name,
    architectures: [...policy.architectures],
    defaultAction: actionText(policy.defaultAction),
    unknownAction: actionText(policy.unknownAction),
    badArchAction: actionText(policy.badArchAction),
    ...(policy.metadata === undefined ? {} : { metadata: { ...policy.metadata } }),
    rules: policy.rules.map(ruleNode),
    ...(policy.filesystem === undefined ? {} : { filesystem: policy.filesystem }),
    ...(policy.network === undefined ? {} : { network: policy.network }),
  });
  return document.toString({ lineWidth: 0 });
}
