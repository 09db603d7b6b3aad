/**
 * Filter actions: what a rule does to a matching syscall, and their SECCOMP_RET_* encoding
 * (include/uapi/linux/seccomp.h). Shared by the policy model, the compiler and the emulator.
 */

export type Action =
  | { readonly kind: 'allow' }
  | { readonly kind: 'errno'; readonly errno: number }
  | { readonly kind: 'kill_process' }
  | { readonly kind: 'kill_thread' }
  | { readonly kind: 'trap'; readonly data: number }
  | { readonly kind: 'log' }
  | { readonly kind: 'trace'; readonly data: number }
  | { readonly kind: 'notify' };

export type ActionKind = Action['kind'];

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** SECCOMP_RET_ACTION_FULL: the action part of a filter's return value; the rest is data. */
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

/** The kernel caps errno values at MAX_ERRNO. */
export const MAX_ERRNO = 4095;

export const ALLOW: Action = { kind: 'allow' };
export const KILL_PROCESS: Action = { kind: 'kill_process' };

/** Encodes an action as the 32-bit value a seccomp filter returns. */
export function actionToRet(action: Action): number {
  switch (action.kind) {
    case 'allow':
      return SECCOMP_RET.ALLOW;
    case 'errno':
      return (SECCOMP_RET.ERRNO | (action.errno & SECCOMP_RET_DATA)) >>> 0;
    case 'kill_process':
      return SECCOMP_RET.KILL_PROCESS;
    case 'kill_thread':
      return SECCOMP_RET.KILL_THREAD;
    case 'trap':
      return (SECCOMP_RET.TRAP | (action.data & SECCOMP_RET_DATA)) >>> 0;
    case 'log':
      return SECCOMP_RET.LOG;
    case 'trace':
      return (SECCOMP_RET.TRACE | (action.data & SECCOMP_RET_DATA)) >>> 0;
    case 'notify':
      return SECCOMP_RET.USER_NOTIF;
  }
}

/**
 * Decodes a filter return value the way the kernel does (kernel/seccomp.c): unknown action values
 * are treated as KILL_PROCESS, so a decoder must never report them as anything weaker.
 */
export function retToAction(ret: number): Action {
  const data = ret & SECCOMP_RET_DATA;
  switch ((ret & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET.ALLOW:
      return { kind: 'allow' };
    case SECCOMP_RET.ERRNO:
      return { kind: 'errno', errno: Math.min(data, MAX_ERRNO) };
    case SECCOMP_RET.KILL_THREAD:
      return { kind: 'kill_thread' };
    case SECCOMP_RET.TRAP:
      return { kind: 'trap', data };
    case SECCOMP_RET.LOG:
      return { kind: 'log' };
    case SECCOMP_RET.TRACE:
      return { kind: 'trace', data };
    case SECCOMP_RET.USER_NOTIF:
      return { kind: 'notify' };
    default:
      return { kind: 'kill_process' };
  }
}

/** Canonical text of an action, as written in policies: allow, errno(EPERM), kill_process, trace(7). */
export function formatAction(action: Action, errnoName?: (errno: number) => string | undefined): string {
  switch (action.kind) {
    case 'errno':
      return `errno(${errnoName?.(action.errno) ?? action.errno})`;
    case 'trap':
      return action.data === 0 ? 'trap' : `trap(${action.data})`;
    case 'trace':
      return `trace(${action.data})`;
    default:
      return action.kind;
  }
}

export function actionsEqual(a: Action, b: Action): boolean {
  return actionToRet(a) === actionToRet(b);
}
