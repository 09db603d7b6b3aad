/**
 * What `run` hands the launcher: the compiled program, the Landlock plan and the command, already
 * checked. Serialized as JSON over a pipe; the launcher re-validates every field (fail closed on a
 * malformed plan rather than running the command with less confinement).
 */
import { decodeProgram, encodeProgram, type Program } from '../bpf/insn.js';
import type { LandlockPlan, PathList } from './landlock.js';

export interface LaunchPlan {
  /** Absolute path of the executable (PATH already searched). */
  readonly executable: string;
  /** argv as the workload sees it; argv[0] is the command as typed. */
  readonly argv: readonly string[];
  /** The workload's environment, as KEY=VALUE strings. */
  readonly env: readonly string[];
  /** The compiled filter for the host ABI, without the exec gate (the launcher adds it). */
  readonly program: Program;
  readonly filterFlags: number;
  readonly landlock?: LandlockPlan;
}

interface WireLandlock {
  abi: number;
  handledFs: string;
  handledNet: string;
  pathRules: { path: string; access: string; lists: PathList[] }[];
  portRules: { port: number; access: string }[];
}

interface WirePlan {
  executable: string;
  argv: string[];
  env: string[];
  program: string;
  filterFlags: number;
  landlock?: WireLandlock;
}

/** JSON text of a plan (BigInts as decimal strings, the program as base64 of struct sock_filter[]). */
export function serializeLaunchPlan(plan: LaunchPlan): string {
  const wire: WirePlan = {
    executable: plan.executable,
    argv: [...plan.argv],
    env: [...plan.env],
    program: encodeProgram(plan.program).toString('base64'),
    filterFlags: plan.filterFlags,
    ...(plan.landlock ? { landlock: toWireLandlock(plan.landlock) } : {}),
  };
  return JSON.stringify(wire);
}

function toWireLandlock(plan: LandlockPlan): WireLandlock {
  return {
    abi: plan.abi,
    handledFs: plan.handledFs.toString(),
    handledNet: plan.handledNet.toString(),
    pathRules: plan.pathRules.map((rule) => ({
      path: rule.path,
      access: rule.access.toString(),
      lists: [...rule.lists],
    })),
    portRules: plan.portRules.map((rule) => ({ port: rule.port, access: rule.access.toString() })),
  };
}

class PlanError extends Error {
  override readonly name = 'PlanError';
}

function field<T>(value: unknown, check: (v: unknown) => v is T, where: string): T {
  if (!check(value)) throw new PlanError(`malformed launch plan: ${where}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isInteger = (v: unknown): v is number => Number.isSafeInteger(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isDecimal = (v: unknown): v is string => typeof v === 'string' && /^\d+$/.test(v);

/** Parses and validates a serialized plan; throws on anything missing or mistyped. */
export function parseLaunchPlan(text: string): LaunchPlan {
  const wire = field(JSON.parse(text) as unknown, isRecord, 'not an object');
  const argv = field(wire['argv'], isStringArray, 'argv');
  if (argv.length === 0) throw new PlanError('malformed launch plan: empty argv');
  const landlock = wire['landlock'] === undefined ? undefined : parseWireLandlock(wire['landlock']);
  return {
    executable: field(wire['executable'], isString, 'executable'),
    argv,
    env: field(wire['env'], isStringArray, 'env'),
    program: decodeProgram(Buffer.from(field(wire['program'], isString, 'program'), 'base64')),
    filterFlags: field(wire['filterFlags'], isInteger, 'filterFlags'),
    ...(landlock ? { landlock } : {}),
  };
}

function parseWireLandlock(value: unknown): LandlockPlan {
  const wire = field(value, isRecord, 'landlock');
  const pathRules = field(wire['pathRules'], isArray, 'landlock.pathRules').map((item, i) => {
    const rule = field(item, isRecord, `landlock.pathRules[${i}]`);
    return {
      path: field(rule['path'], isString, `landlock.pathRules[${i}].path`),
      access: BigInt(field(rule['access'], isDecimal, `landlock.pathRules[${i}].access`)),
      lists: field(rule['lists'], isStringArray, `landlock.pathRules[${i}].lists`) as PathList[],
    };
  });
  const portRules = field(wire['portRules'], isArray, 'landlock.portRules').map((item, i) => {
    const rule = field(item, isRecord, `landlock.portRules[${i}]`);
    return {
      port: field(rule['port'], isInteger, `landlock.portRules[${i}].port`),
      access: BigInt(field(rule['access'], isDecimal, `landlock.portRules[${i}].access`)),
    };
  });
  return {
    abi: field(wire['abi'], isInteger, 'landlock.abi'),
    handledFs: BigInt(field(wire['handledFs'], isDecimal, 'landlock.handledFs')),
    handledNet: BigInt(field(wire['handledNet'], isDecimal, 'landlock.handledNet')),
    pathRules,
    portRules,
    // Gaps were reported by `run` before launching; the launcher only applies what is enforceable.
    gaps: [],
  };
}
