/**
 * Slack's chat.* methods on the stand-in: messages and thread replies posted, edited and deleted
 * as the bot, ephemerals, permalinks; blocks and text checked against Slack's limits.
 */
import type { StandInWorkspace } from './StandInWorkspace.ts';
import { fail, refused, type WebApiMethods } from './standInModel.ts';

export function chatMethods(ws: StandInWorkspace): WebApiMethods {
  return {
    'chat.postMessage': (args) => {
      const content = ws.messageContent(args);
      if (refused(content)) return content;
      const threadTs = typeof args.thread_ts === 'string' && args.thread_ts.length > 0 ? args.thread_ts : undefined;
      const posted = ws.post(args.channel, content, threadTs, 'chat.postMessage');
      if (refused(posted)) return posted;
      return { ok: true, channel: posted.channel, ts: posted.ts, message: ws.messagePayload(posted) };
    },

    'chat.update': (args) => {
      const channel = ws.resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      const message = typeof args.ts === 'string' ? ws.message(channel, args.ts) : undefined;
      if (!message || message.deleted) return fail('message_not_found');
      const content = ws.messageContent({
        text: args.text ?? message.text,
        blocks: args.blocks ?? message.blocks,
      });
      if (refused(content)) return content;
      ws.edit(message, content);
      return { ok: true, channel, ts: message.ts, text: message.text, message: ws.messagePayload(message) };
    },

    'chat.delete': (args) => {
      const channel = ws.resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      const message = typeof args.ts === 'string' ? ws.message(channel, args.ts) : undefined;
      if (!message || message.deleted) return fail('message_not_found');
      message.deleted = true;
      return { ok: true, channel, ts: message.ts };
    },

    'chat.postEphemeral': (args) => {
      const channel = ws.resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      if (typeof args.user !== 'string' || !ws.findUser(args.user)) return fail('user_not_found');
      const content = ws.messageContent(args);
      if (refused(content)) return content;
      const shown = ws.addEphemeral({ channel, user: args.user, ...content, via: 'chat.postEphemeral' });
      return { ok: true, message_ts: shown.ts };
    },

    'chat.getPermalink': (args) => {
      const channel = ws.resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      const message = typeof args.message_ts === 'string' ? ws.message(channel, args.message_ts) : undefined;
      if (!message || message.deleted) return fail('message_not_found');
      return { ok: true, channel, permalink: `https://${ws.teamDomain}.slack.com/archives/${channel}/p${message.ts.replace('.', '')}` };
    },
  };
}
