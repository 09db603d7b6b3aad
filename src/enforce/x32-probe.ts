/**
 * Child script for `sysfence probe`: asks the kernel whether it runs x32 system calls by making one —
 * getpid with the x32 bit set (no arguments, no side effects). Run in its own process so that a filter
 * already confining sysfence (one that kills on a foreign ABI) takes down only this probe.
 * Prints one word: "enabled" (the call returned our pid), "disabled" (ENOSYS) or "error:<errno>".
 */
import { X32_SYSCALL_BIT, syscallNumber } from '../syscalls/arch.js';
import { errnoValue, rawSyscall } from './ffi.js';

const getpid = syscallNumber('x32', 'getpid');
if (getpid === undefined) throw new Error('the x32 syscall table has no getpid');
const result = rawSyscall((getpid | X32_SYSCALL_BIT) >>> 0);
if (result.value === process.pid) process.stdout.write('enabled');
else if (result.value < 0 && result.errno === errnoValue('ENOSYS')) process.stdout.write('disabled');
else process.stdout.write(`error:${result.errno}`);
