/**
 * One step of a state store's schema. Migrations are TypeScript modules holding SQL text, so they
 * run the same under tsx and from a `tsc` build, with no SQL files to copy next to the output.
 */
export interface Migration {
  /** Consecutive from 1; recorded in the store's table of applied migrations once applied. */
  version: number;
  name: string;
  sql: string;
}
