import type { AccessRequest } from '../../domain/request.ts';
import type { OutboxDraft, OutboxEntry } from '../../ports/Coordination.ts';
import type { Notification, NotificationKind } from '../../ports/NotificationDelivery.ts';

/** The keys of AccessRequest that hold a moment. */
type DateKeys = { [K in keyof AccessRequest]-?: NonNullable<AccessRequest[K]> extends Date ? K : never }[keyof AccessRequest];

/** Every moment of a request, as JSON keeps it: an ISO string. */
const REQUEST_DATES = [
  'createdAt',
  'pendingExpiresAt',
  'decidedAt',
  'grantedAt',
  'expiresAt',
  'endedAt',
  'nextAttemptAt',
  'expiryReminderSentAt',
  'approverReminderSentAt',
  'reviewedAt',
  'reviewReminderSentAt',
] as const satisfies readonly DateKeys[];

// A moment added to AccessRequest and missing above fails to compile here.
const everyDateListed: [Exclude<DateKeys, (typeof REQUEST_DATES)[number]>] extends [never] ? true : never = true;
void everyDateListed;

/** A request as JSON: its moments as ISO strings, absent fields left out. */
export type RequestJson = Omit<AccessRequest, DateKeys> & Partial<Record<DateKeys, string>>;

export function requestToJson(request: AccessRequest): RequestJson {
  const json: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) {
    if (value !== undefined) json[key] = value instanceof Date ? value.toISOString() : value;
  }
  return json as RequestJson;
}

export function requestFromJson(json: unknown): AccessRequest {
  if (typeof json !== 'object' || json === null || typeof (json as { id?: unknown }).id !== 'string') {
    throw new Error('A queued notification holds no request.');
  }
  const request: Record<string, unknown> = { ...json };
  for (const key of REQUEST_DATES) {
    const value = request[key];
    if (value === undefined || value === null) {
      delete request[key];
      continue;
    }
    const at = new Date(value as string);
    if (typeof value !== 'string' || Number.isNaN(at.getTime())) throw new Error(`A queued request's ${key} is not a moment.`);
    request[key] = at;
  }
  return request as unknown as AccessRequest;
}

/** Notifications about no one request are told one at a time under this key. */
export const ADMIN_ALERTS_KEY = 'admin alerts';

/** The outbox entry of a notifier call: keyed by its request, so each request's are told in order. */
export function draftOf(notification: Notification): OutboxDraft {
  const { kind } = notification;
  switch (notification.kind) {
    case 'leftoversRemoved':
      return { key: notification.report.requestId ?? ADMIN_ALERTS_KEY, kind, payload: { report: notification.report } };
    case 'internalError':
      return { key: ADMIN_ALERTS_KEY, kind, payload: { alert: notification.alert } };
    case 'personDeactivated':
      return { key: ADMIN_ALERTS_KEY, kind, payload: { report: notification.report } };
    default: {
      const { kind: _, request, ...rest } = notification;
      // The parts of one request share a key: one DM shows them all, so its updates keep order.
      return { key: request.groupId ?? request.id, kind, payload: { request: requestToJson(request), ...rest } };
    }
  }
}

const KINDS: ReadonlySet<NotificationKind> = new Set<NotificationKind>([
  'approvalRequested',
  'requestUpdated',
  'expiringSoon',
  'approvalReminder',
  'revocationFailing',
  'sessionsCounted',
  'leftoversRemoved',
  'personDeactivated',
  'internalError',
  'breakGlassUsed',
  'breakGlassReviewed',
  'breakGlassReviewReminder',
]);

/** The notifier call an outbox entry holds; throws when the entry holds none this build knows. */
export function notificationOf(entry: Pick<OutboxEntry, 'kind' | 'payload'>): Notification {
  const kind = entry.kind as NotificationKind;
  if (!KINDS.has(kind)) throw new Error(`A queued notification is of a kind this Sesame does not know: ${entry.kind}.`);
  const payload = (entry.payload ?? {}) as Record<string, unknown>;
  if (kind === 'leftoversRemoved' || kind === 'internalError' || kind === 'personDeactivated') return { kind, ...payload } as Notification;
  return { ...payload, kind, request: requestFromJson(payload.request) } as Notification;
}
