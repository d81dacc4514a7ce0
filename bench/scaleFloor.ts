/**
 * The floor of the start-up benchmark (bench/scaleProcess.ts): a node process that loads every
 * module the bot loads (src/main.ts, not run), opens the same SQLite state and answers 200 on
 * every path of $PORT, without building or starting Sesame.
 */
import { createServer } from 'node:http';
import '../src/main.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/SqliteStateStore.ts';

const store = SqliteStateStore.open(process.env.SCALE_FLOOR_STATE ?? '');
await store.ping();
createServer((_req, res) => res.writeHead(200).end('ready\n')).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  store.close().finally(() => process.exit(0));
});
