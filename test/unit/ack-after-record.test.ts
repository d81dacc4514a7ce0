import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { onAccessCommand } from '../../src/adapters/slack/listeners/commands/onAccessCommand.ts';
import type { SlackEdge, SlackServices } from '../../src/adapters/slack/listeners/context.ts';
import { InputError } from '../../src/domain/errors.ts';
import type { AccessRequest } from '../../src/domain/request.ts';
import { markRecorded } from '../../src/lib/recorded.ts';
import { WorkQueue } from '../../src/lib/WorkQueue.ts';
import { capturingLogger } from '../support/logs.ts';
import { newRequest } from '../support/stateFixtures.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The order in which the slash command's listener acknowledges Slack, records (as the services
 * say), and answers: a change is acknowledged only once it is recorded, so a replica killed right
 * after the ack leaves nothing that another cannot finish.
 */
function commandWith(services: Partial<SlackServices>, events: string[]) {
  const edge: SlackEdge = {
    services: services as SlackServices,
    logger: capturingLogger('info').logger,
    command: '/access',
    work: new WorkQueue(4),
  };
  return (text: string) =>
    onAccessCommand(edge, {
      command: { text, user_id: 'U0ALICE', trigger_id: 'T.1' },
      ack: async () => void events.push('ack'),
      respond: async (message: { text?: string }) => void events.push(`reply ${message.text ?? ''}`),
      client: {},
    } as unknown as SlackCommandMiddlewareArgs & AllMiddlewareArgs);
}

const pending = { ...newRequest(), status: 'pending' } as AccessRequest;

describe('the slash command acknowledges a change once it is recorded', { timeout: 30_000 }, () => {
  it('a request: recorded, then the ack, then the rest of the work, then the answer', async () => {
    const events: string[] = [];
    const run = commandWith(
      {
        requests: {
          requestParts: async () => {
            await pause(30);
            events.push('recorded');
            markRecorded();
            await pause(30);
            events.push('approvers told');
            return [pending];
          },
        } as unknown as SlackServices['requests'],
      },
      events,
    );
    await run('request prod readonly for 1h because checking');
    assert.deepEqual(
      events.map((e) => e.split(' ')[0]),
      ['recorded', 'ack', 'approvers', 'reply'],
    );
  });

  it('bad input changes nothing and is acknowledged, then explained', async () => {
    const events: string[] = [];
    const run = commandWith(
      {
        requests: {
          requestParts: async () => {
            throw new InputError('prod does not offer the role "x".');
          },
        } as unknown as SlackServices['requests'],
      },
      events,
    );
    await run('request prod role:x for 1h');
    assert.equal(events[0], 'ack');
    assert.match(events[1] ?? '', /^reply .*does not offer the role/);
  });

  it('a use that only reads is acknowledged before it starts', async () => {
    const events: string[] = [];
    const run = commandWith(
      {
        requests: {
          listForCommand: async () => {
            events.push('listed');
            return { all: false, requests: [] };
          },
        } as unknown as SlackServices['requests'],
      },
      events,
    );
    await run('list');
    assert.deepEqual(
      events.map((e) => e.split(' ')[0]),
      ['ack', 'listed', 'reply'],
    );
  });
});
