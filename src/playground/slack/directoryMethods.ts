/**
 * Slack's directory methods on the stand-in: auth.test, conversations.open (DMs), users.info,
 * users.lookupByEmail, usergroups.list and usergroups.users.list.
 */
import type { StandInWorkspace } from './StandInWorkspace.ts';
import { fail, truthy, type WebApiMethods } from './standInModel.ts';

export function directoryMethods(ws: StandInWorkspace): WebApiMethods {
  return {
    'auth.test': () => ({
      ok: true,
      url: `https://${ws.teamDomain}.slack.com/`,
      team: ws.teamDomain,
      user: 'sesame',
      team_id: ws.teamId,
      user_id: ws.botUserId,
      bot_id: ws.botId,
      is_enterprise_install: false,
    }),

    'conversations.open': (args) => {
      if (typeof args.channel === 'string') {
        const channel = ws.resolveChannel(args.channel);
        return channel ? { ok: true, channel: { id: channel } } : fail('channel_not_found');
      }
      const ids =
        typeof args.users === 'string'
          ? args.users
              .split(',')
              .map((u) => u.trim())
              .filter(Boolean)
          : [];
      if (ids.length === 0) return fail('users_list_not_supplied');
      if (ids.length > 1) return fail('not_supported');
      const user = ws.findUser(ids[0]!);
      if (!user) return fail('user_not_found');
      const id = ws.dmChannelId(user.id);
      return { ok: true, channel: truthy(args.return_im) ? { id, is_im: true, user: user.id } : { id } };
    },

    'users.info': (args) => {
      const user = typeof args.user === 'string' ? ws.findUser(args.user) : undefined;
      return user ? { ok: true, user: ws.userPayload(user) } : fail('user_not_found');
    },

    'users.lookupByEmail': (args) => {
      const email = typeof args.email === 'string' ? args.email.toLowerCase() : '';
      const user = ws.allUsers().find((u) => u.email?.toLowerCase() === email && !u.deleted);
      return user ? { ok: true, user: ws.userPayload(user) } : fail('users_not_found');
    },

    'usergroups.list': (args) => ({
      ok: true,
      usergroups: ws.allUsergroups().map((g) => ({
        id: g.id,
        team_id: ws.teamId,
        is_usergroup: true,
        name: g.name ?? g.handle,
        handle: g.handle,
        user_count: g.members.length,
        ...(truthy(args.include_users) ? { users: [...g.members] } : {}),
      })),
    }),

    'usergroups.users.list': (args) => {
      const group = typeof args.usergroup === 'string' ? ws.usergroup(args.usergroup) : undefined;
      return group ? { ok: true, users: [...group.members] } : fail('no_such_subteam');
    },
  };
}
