import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { SqliteStateStore } from '../../src/adapters/sqlite/SqliteStateStore.ts';
import { stateStoreContract } from './StateStore.contract.ts';

// A real file per test (WAL, locking and all), in a directory removed at the end.
const dir = mkdtempSync(join(tmpdir(), 'sesame-store-contract-'));
let files = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

stateStoreContract('SqliteStateStore on a file', () => SqliteStateStore.open(join(dir, `store-${++files}.db`)), { timeout: 60_000 });
stateStoreContract('SqliteStateStore in memory', () => SqliteStateStore.open(':memory:'), { timeout: 30_000 });
