/**
 * Sesame's services in a process of their own (the config file's SQLite store and PostgreSQL
 * integrations, as the bot builds them), for tests that kill it half way through a grant or a
 * revocation and start Sesame again on the same state file. Run with
 * `node --import tsx test/support/sesameProcess.ts <config.yml> <command> …`, the connector's
 * password in the environment variable the config names:
 *
 * - `request <slackId> <database> <schema> <minutes>`: asks for readonly on that schema through
 *   an auto-approved flow, which grants at once;
 * - `revoke <requestId> <slackId>`: ends a grant early.
 *
 * Prints the request as one JSON line when the command is done.
 */
import { readFileSync } from 'node:fs';
import { buildSesame } from '../../src/app.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { createLogger } from '../../src/logger.ts';
import { FakeDirectory } from './fakes.ts';
import { PEOPLE } from './services.ts';

const [configPath, command, ...args] = process.argv.slice(2);
if (!configPath || !command) throw new Error('usage: sesameProcess.ts <config.yml> request|revoke …');

const sesame = buildSesame(parseConfigText(readFileSync(configPath, 'utf8'), process.env), {
  logger: createLogger({ level: 'silent' }),
  directory: new FakeDirectory(PEOPLE),
});
try {
  if (command === 'request') {
    const [slackId = '', database = '', schema = '', minutes = ''] = args;
    const request = await sesame.services.requests.requestAccess({
      requesterSlackId: slackId,
      target: { integration: 'local', database, schema },
      permission: 'readonly',
      durationMinutes: Number(minutes),
      reason: 'killed half way, on purpose',
    });
    console.log(JSON.stringify(request));
  } else if (command === 'revoke') {
    const [requestId = '', slackId = ''] = args;
    console.log(JSON.stringify(await sesame.services.revocations.revoke(requestId, slackId)));
  } else {
    throw new Error(`unknown command ${command}`);
  }
} finally {
  await sesame.close();
}
