/**
 * How to start one of this folder's scripts (launcher, x32 probe) in a fresh Node process: from dist
 * (.js) directly, from src (.ts, under tsx in tests and development) through the tsx loader.
 */
import { dirname, extname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface NodeScript {
  readonly node: string;
  readonly args: readonly string[];
}

/** The command line running the sibling module `name` (without extension). */
export function siblingScript(name: string): NodeScript {
  const here = fileURLToPath(import.meta.url);
  const extension = extname(here);
  const script = join(dirname(here), `${name}${extension}`);
  // Resolved from this file, not the working directory, so the loader is found wherever run starts.
  const loader =
    extension === '.ts'
      ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href]
      : [];
  return { node: process.execPath, args: [...loader, script] };
}
