import { InputError } from './domain/errors.ts';
import { normalizeRequestId } from './domain/request.ts';
import type { AuditEvent, StateStore, StoredSessionRecord } from './ports/StateStore.ts';

/** Which part of the trail `sesame audit` prints. */
export interface AuditExportFilter {
  since: Date;
  until?: Date | undefined;
  /** A request's ID, or that of a request for several targets (every part). */
  request?: string | undefined;
  /** A Slack ID or an email: events where they act or are the requester, and their sessions. */
  person?: string | undefined;
}

const PAGE = 1000;

/**
 * Prints the audit trail as JSON lines (`"type": "audit"`), then the session records — logins,
 * logouts and statements of managed users, each with the request it happened under — in the
 * order they were stored (`"type": "session"`); both limited by the filter. Nothing here holds
 * a secret: passwords never reach the trail, and statements were redacted when read.
 */
export async function exportAudit(store: StateStore, filter: AuditExportFilter, out: (line: string) => void): Promise<void> {
  const request = filter.request === undefined ? undefined : requestIdOf(filter.request);
  const person = filter.person?.trim().toLowerCase();
  const people = person ? await slackIdsOf(store, person) : undefined;
  const ofRequest = (id: string | undefined) => request === undefined || id === request || id?.startsWith(`${request}.`) === true;
  const inTime = (at: Date) => at >= filter.since && (!filter.until || at < filter.until);
  const ofPerson = (event: AuditEvent) => {
    if (!people || !person) return true;
    const d = event.details ?? {};
    const named = [event.actor, event.actorEmail, d.requester, d.requesterEmail, d.requestedBy].map((v) =>
      typeof v === 'string' ? v.toLowerCase() : v,
    );
    return named.includes(person) || [event.actor, d.requester, d.requestedBy].some((v) => typeof v === 'string' && people.has(v));
  };

  let from = filter.since;
  let lastId = -1;
  for (let done = false; !done; ) {
    const page = (await store.listAudit(from, PAGE)).filter((e) => (e.id ?? 0) > lastId);
    for (const event of page) {
      if (!inTime(event.at)) {
        done = true;
        break;
      }
      if (ofRequest(event.requestId) && ofPerson(event)) out(JSON.stringify({ type: 'audit', ...event, at: event.at.toISOString() }));
    }
    if (page.length === 0) break;
    lastId = page.at(-1)!.id ?? lastId;
    from = page.at(-1)!.at;
  }

  const exact = request !== undefined && (await store.getRequest(request)) !== undefined;
  let afterSeq = 0;
  for (;;) {
    const page = await store.listSessionRecords({ since: filter.since, afterSeq, limit: PAGE, ...(exact ? { requestId: request } : {}) });
    for (const record of page) {
      if (inTime(record.at) && ofRequest(record.requestId) && (!people || people.has(record.requester))) out(sessionLine(record));
    }
    if (page.length < PAGE) break;
    afterSeq = page.at(-1)!.seq;
  }
}

function sessionLine(record: StoredSessionRecord): string {
  return JSON.stringify({ type: 'session', ...record, at: record.at.toISOString() });
}

function requestIdOf(text: string): string {
  const id = normalizeRequestId(text);
  if (!id)
    throw new InputError(`--request "${text.slice(0, 40)}" is not a request ID; they look like R7K3QXA (or R7K3QXA.2 for one part).`);
  return id;
}

/** The Slack IDs a person's filter stands for: the ID itself, or every requester with that email. */
async function slackIdsOf(store: StateStore, person: string): Promise<Set<string>> {
  if (!person.includes('@')) return new Set([person.toUpperCase()]);
  const requests = await store.listRequests({});
  return new Set(requests.filter((r) => r.requester.email?.toLowerCase() === person).map((r) => r.requester.slackId));
}
