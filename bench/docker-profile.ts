/**
 * Where Docker's default seccomp profile lives in this repository: the committed copy in test/fixtures/oci
 * (of shared/data/profiles/docker-default.json, Apache-2.0, LICENSE.docker beside it). One place for the
 * benches (run from dist/bench) and the tests (run from bench/ through tsx), so nothing depends on where
 * shared/ happens to sit on a machine.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CANDIDATES = [
  '../../test/fixtures/oci/docker-default.json',
  '../test/fixtures/oci/docker-default.json',
];

/** Absolute path of the committed Docker default profile. */
export function dockerDefaultProfilePath(): string {
  const path = CANDIDATES.map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find(existsSync);
  if (path === undefined)
    throw new Error('test/fixtures/oci/docker-default.json is missing from the checkout');
  return path;
}
