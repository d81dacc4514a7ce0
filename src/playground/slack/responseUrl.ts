/**
 * A POST to a response_url the stand-in handed out: an ephemeral reply by default, or
 * `in_channel`, `replace_original`, `delete_original`, within Slack's limits of 5 uses in 30
 * minutes.
 */
import { validateMessage } from './blockKitRules.ts';
import type { StandInWorkspace } from './StandInWorkspace.ts';
import { type Answer, type Args, fail, isObject, RESPONSE_URL_TTL_MS, RESPONSE_URL_USES, refused, truthy } from './standInModel.ts';

/** How the stand-in answered a response_url: the HTTP status, the body and the JSON it was sent. */
export interface ResponseUrlAnswer {
  status: number;
  answer: Answer;
  body: Args;
}

function parsed(raw: string): Args | undefined {
  try {
    const body: unknown = JSON.parse(raw);
    return isObject(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

export function answerResponseUrl(ws: StandInWorkspace, id: string, raw: string): ResponseUrlAnswer {
  const target = ws.responseUrl(id);
  const reply = (status: number, answer: Answer, body: Args = {}) => ({ status, answer, body });
  if (!target) return reply(404, fail('no_such_url'));
  if (ws.now() - target.issuedAt > RESPONSE_URL_TTL_MS) return reply(404, fail('expired_url'));
  if (target.uses >= RESPONSE_URL_USES) return reply(404, fail('used_url'));
  const body = parsed(raw);
  if (!body) return reply(400, fail('invalid_json'));
  target.uses += 1;
  if (truthy(body.delete_original)) {
    const original = ws.originalOf(target);
    if (!original) return reply(404, fail('message_not_found'), body);
    original.deleted = true;
    return reply(200, { ok: true }, body);
  }
  const problems = validateMessage(body);
  if (problems.length > 0) return reply(400, fail('invalid_blocks', problems), body);
  const content = { text: typeof body.text === 'string' ? body.text : '', blocks: Array.isArray(body.blocks) ? body.blocks : [] };
  if (truthy(body.replace_original)) {
    const original = ws.originalOf(target);
    if (!original) return reply(404, fail('message_not_found'), body);
    ws.edit(original, content);
    return reply(200, { ok: true }, body);
  }
  if (body.response_type === 'in_channel') {
    const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
    const posted = ws.post(target.channel, content, threadTs, 'response_url');
    if (refused(posted)) return reply(404, posted, body);
    return reply(200, { ok: true }, body);
  }
  ws.addEphemeral({ channel: target.channel, user: target.userId, ...content, via: 'response_url' });
  return reply(200, { ok: true }, body);
}
