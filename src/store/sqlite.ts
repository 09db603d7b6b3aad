/**
 * The typed slice of better-sqlite3 the store uses. The package ships no type declarations and the
 * project installs no @types packages, so the store declares the few calls it makes and loads the module
 * through createRequire (it is CommonJS); nothing outside src/store touches SQLite directly.
 */
import { createRequire } from 'node:module';

/** What `run` reports for an INSERT/UPDATE/DELETE. */
export interface RunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

/** A prepared statement; parameters are positional or one object of named parameters. */
export interface Statement {
  run(...parameters: unknown[]): RunResult;
  get(...parameters: unknown[]): unknown;
  all(...parameters: unknown[]): unknown[];
}

/** An open database connection. */
export interface SqliteDatabase {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(text: string, options?: { simple?: boolean }): unknown;
  transaction<Arguments extends unknown[], Result>(
    body: (...args: Arguments) => Result,
  ): (...args: Arguments) => Result;
  close(): void;
  readonly open: boolean;
}

type DatabaseConstructor = new (
  file: string,
  options?: { readonly?: boolean; fileMustExist?: boolean },
) => SqliteDatabase;

const require = createRequire(import.meta.url);

/** Opens (creating when missing) the SQLite database at `file`; ':memory:' for a private in-memory one. */
export function openSqlite(file: string): SqliteDatabase {
  const Database = require('better-sqlite3') as DatabaseConstructor;
  return new Database(file);
}
