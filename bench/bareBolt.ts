/**
 * The floor of the ack benchmark: a Bolt app on the same HTTP receiver and signing check as
 * Sesame's, whose command listener only acks. Run as its own process on $PORT.
 */
import { App, HTTPReceiver } from '@slack/bolt';

const app = new App({
  receiver: new HTTPReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET!, endpoints: '/slack/events' }),
  token: process.env.SLACK_BOT_TOKEN!,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL! },
  tokenVerificationEnabled: false,
});
app.command(/.*/, async ({ ack }) => ack());
await app.start(Number(process.env.PORT));
process.stdout.write('ready\n');
process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
