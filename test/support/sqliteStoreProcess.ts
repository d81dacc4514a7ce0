/**
 * A second process using a SqliteStateStore file, for tests of what SQLite promises across
 * processes. Run with `node --import tsx test/support/sqliteStoreProcess.ts <command> <db> …`:
 *
 * - `read <db> <id>`: prints the request as JSON (`null` when unknown);
 * - `approve <db> <id,id,…> <goFile>`: prints `ready`, waits until `goFile` exists so several
 *   processes start together, tries `pending → approved` on each ID, prints the IDs it won as JSON.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteStateStore } from '../../src/adapters/sqlite/SqliteStateStore.ts';

const [command, dbPath, ...rest] = process.argv.slice(2);
if (!dbPath) throw new Error('usage: sqliteStoreProcess.ts read|approve <db> …');

const store = SqliteStateStore.open(dbPath);
try {
  if (command === 'read') {
    console.log(JSON.stringify((await store.getRequest(rest[0] ?? '')) ?? null));
  } else if (command === 'approve') {
    const [ids = '', goFile = ''] = rest;
    console.log('ready');
    while (!existsSync(goFile)) await sleep(5);
    const won: string[] = [];
    for (const id of ids.split(',')) {
      const result = await store.transition(id, ['pending'], 'approved', { decidedBy: `pid-${process.pid}` });
      if (result) won.push(id);
    }
    console.log(JSON.stringify(won));
  } else {
    throw new Error(`unknown command ${command}`);
  }
} finally {
  await store.close();
}
