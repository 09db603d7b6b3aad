/**
 * Public entry points for reading policies: from disk (`loadPolicy`) or from text already in memory
 * (`parsePolicyText`, for tests, stdin and other formats). Both resolve `extends` and return the IR.
 */
import { readFile } from 'node:fs/promises';
import type { ResolvedPolicy } from './ir.js';
import { resolvePolicy, type ReadPolicyFile } from './resolve.js';

const readFromDisk: ReadPolicyFile = (file) => readFile(file, 'utf8');

/** Reads a policy file and its `extends` layers from disk; throws a PolicyError listing every problem. */
export function loadPolicy(path: string): Promise<ResolvedPolicy> {
  return resolvePolicy(path, readFromDisk);
}

/**
 * Resolves policy text as if it were the file `file`; its `extends` entries are read with `readFile`
 * (from disk by default) relative to `file`. Throws a PolicyError listing every problem.
 */
export function parsePolicyText(
  text: string,
  file: string,
  readFile: ReadPolicyFile = readFromDisk,
): Promise<ResolvedPolicy> {
  return resolvePolicy(file, readFile, text);
}
