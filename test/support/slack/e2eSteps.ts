/**
 * Steps the end-to-end Slack tests share: finding a request by its reason, the copies of its
 * approval message, a person's private answers, and the credentials a grant's modal shows.
 */
import type { StandInMessage } from '../../../src/playground/slack/SlackStandIn.ts';
import { pollUntil } from '../poll.ts';
import { APPROVAL_CHANNEL, type E2eWorld } from './botHarness.ts';

/** The ID of the request made with this reason, once the store has it. */
export async function waitForRequest(world: E2eWorld, reason: string): Promise<string> {
  const found = await pollUntil(
    async () => (await world.bot.sesame.store.listRequests({})).find((r) => r.reason === reason),
    `a request "${reason}"`,
  );
  return found.id;
}

/** Every copy of a request's approval message: the DMs to these approvers and the channel post. */
export function approvalCopies(world: E2eWorld, requestId: string, approverIds: readonly string[]): StandInMessage[] {
  return approverIds
    .flatMap((id) => world.fake.dmMessages(id))
    .concat(world.fake.messages(APPROVAL_CHANNEL))
    .filter((m) => m.text.includes(`Access request ${requestId}`));
}

/** The text of a person's private answer number `index` (from 0), waited for up to 10 s. */
export async function ephemeralAt(world: E2eWorld, userId: string, index: number): Promise<string> {
  const reply = await world.fake.waitFor(() => world.fake.ephemerals(userId)[index], `an ephemeral answer to ${userId}`, 10_000);
  return reply.text;
}

/** Clicks Show credentials on a grant DM; returns the URI and password the modal shows, and its whole text. */
export async function showCredentials(
  world: E2eWorld,
  dm: StandInMessage,
  requestId: string,
  userId: string,
): Promise<{ uri: string; password: string; text: string }> {
  const views = world.fake.views(userId).length;
  await world.driver.clickButton(dm, `sesame.credentials:${requestId}`, userId);
  const view = await world.fake.waitFor(
    () =>
      world.fake
        .views(userId)
        .slice(views)
        .find((v) => JSON.stringify(v.view).includes('postgresql://')),
    'the credentials modal',
    10_000,
  );
  const text = JSON.stringify(view.view);
  const uri = /postgresql:\/\/[^`"\\]+/.exec(text)![0];
  const password = decodeURIComponent(/:\/\/[^:]+:([^@]+)@/.exec(uri)![1]!);
  return { uri, password, text };
}

/** Runs the slash command; answers the private reply's text with what its blocks say. */
export async function commandReply(world: E2eWorld, userId: string, text: string): Promise<string> {
  const before = world.fake.ephemerals(userId).length;
  const ack = await world.driver.slashCommand({ userId, text });
  if (ack.status !== 200) throw new Error(`the command "${text.slice(0, 40)}" was answered with HTTP ${ack.status}`);
  await ephemeralAt(world, userId, before);
  const reply = world.fake.ephemerals(userId)[before]!;
  return `${reply.text}\n${JSON.stringify(reply.blocks)}`;
}
