/**
 * What the playground page shows of Slack, read from the stand-in: each person's DM (threads
 * included, every message as its latest edit), ephemerals, Home tab and open modals, and the
 * approvals channel.
 */
import type { PageEphemeral, PageMessage, PagePerson, PageView } from '../pageApi.ts';
import type { PageRoutesOptions, SlackPageState } from './pageRoutes.ts';
import type { SlackStandIn, StandInEphemeral, StandInMessage, StandInView } from './SlackStandIn.ts';

export function pageMessage(m: StandInMessage): PageMessage {
  return {
    channel: m.channel,
    ts: m.ts,
    user: m.user,
    text: m.text,
    blocks: m.blocks,
    edited: m.edits.length > 0,
    replies: m.replies.filter((r) => !r.deleted).map(pageMessage),
  };
}

function pageEphemeral(e: StandInEphemeral): PageEphemeral {
  return { channel: e.channel, ts: e.ts, text: e.text, blocks: e.blocks };
}

function pageView(v: StandInView): PageView {
  return { id: v.id, type: v.type, view: v.view, ...(v.errors ? { errors: v.errors } : {}) };
}

function pagePerson(standIn: SlackStandIn, person: PageRoutesOptions['people'][number]): PagePerson {
  const home = standIn.homeView(person.id);
  return {
    ...person,
    dm: standIn.dmMessages(person.id).map(pageMessage),
    ephemeral: standIn.ephemerals(person.id).map(pageEphemeral),
    home: home ? pageView(home) : null,
    modals: standIn
      .views(person.id)
      .filter((v) => !v.closed)
      .map(pageView),
  };
}

export function slackPageState({ standIn, people, approvalsChannel, command }: PageRoutesOptions): SlackPageState {
  return {
    command,
    botUserId: standIn.botUserId,
    people: people.map((p) => pagePerson(standIn, { id: p.id, name: p.name, role: p.role, email: p.email })),
    approvals: { ...approvalsChannel, messages: standIn.messages(approvalsChannel.id).map(pageMessage) },
  };
}
