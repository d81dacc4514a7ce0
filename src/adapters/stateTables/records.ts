import type { Permission } from '../../domain/permission.ts';
import type {
  AccessRequest,
  Approval,
  ApproverGroup,
  EndReason,
  NewAccessRequest,
  Person,
  RequestKind,
  RequestStatus,
  ReviewOutcome,
} from '../../domain/request.ts';
import type { Target } from '../../domain/target.ts';
import type { SessionRecord, SessionRecordKind, StoredSessionRecord } from '../../ports/SessionRecords.ts';
import type { AuditAction, AuditEvent, ManagedUser, ManagedUserPatch, NotificationRef, RequestPatch } from '../../ports/StateStore.ts';
import {
  booleanColumn,
  type Codec,
  type Columns,
  dateColumn,
  decodePresent,
  encodeColumns,
  integerColumn,
  jsonColumn,
  type Row,
  textColumn,
} from './columns.ts';

/**
 * How each record maps to its table's columns, both ways: one table of columns per record, so a
 * field is named once for writing, patching and reading, in every store. A null column is an
 * absent field.
 */

/** The columns behind the request fields a patch may change. */
export const REQUEST_PATCH_COLUMNS: Columns<RequestPatch> = {
  decidedAt: dateColumn('decided_at'),
  decidedBy: textColumn('decided_by'),
  denyReason: textColumn('deny_reason'),
  dbUser: textColumn('db_user'),
  serverKey: textColumn('server_key'),
  grantedRoles: jsonColumn<string[]>('granted_roles'),
  grantedAt: dateColumn('granted_at'),
  expiresAt: dateColumn('expires_at'),
  endedAt: dateColumn('ended_at'),
  endedBy: textColumn('ended_by'),
  endReason: textColumn<EndReason>('end_reason'),
  revokeAttempts: integerColumn('revoke_attempts'),
  nextAttemptAt: dateColumn('next_attempt_at'),
  lastError: textColumn('last_error'),
  approverGroups: jsonColumn<ApproverGroup[]>('approver_groups'),
  expiryReminderSentAt: dateColumn('expiry_reminder_sent_at'),
  approverReminderSentAt: dateColumn('approver_reminder_sent_at'),
  reviewOutcome: textColumn<ReviewOutcome>('review_outcome'),
  reviewedBy: textColumn('reviewed_by'),
  reviewedAt: dateColumn('reviewed_at'),
  reviewReminderSentAt: dateColumn('review_reminder_sent_at'),
};

type FlatRequest = Omit<AccessRequest, 'requester' | 'target'>;

const REQUEST_COLUMNS: Columns<FlatRequest> = {
  id: textColumn('id'),
  kind: textColumn<RequestKind>('kind'),
  parentId: textColumn('parent_id'),
  permission: textColumn<Permission>('permission'),
  durationMinutes: integerColumn('duration_minutes'),
  reason: textColumn('reason'),
  flowName: textColumn('flow_name'),
  approvalMode: textColumn<AccessRequest['approvalMode']>('approval_mode'),
  allowSelfApproval: booleanColumn('allow_self_approval'),
  status: textColumn<RequestStatus>('status'),
  createdAt: dateColumn('created_at'),
  pendingExpiresAt: dateColumn('pending_expires_at'),
  version: integerColumn('version'),
  groupId: textColumn('group_id'),
  requestedBy: textColumn('requested_by'),
  breakGlass: booleanColumn('break_glass'),
  ...REQUEST_PATCH_COLUMNS,
};

const REQUESTER_COLUMNS: Columns<Person> = {
  slackId: textColumn('requester_slack_id'),
  email: textColumn('requester_email'),
};

const TARGET_COLUMNS: Columns<Target> = {
  integration: textColumn('integration'),
  database: textColumn('database_name'),
  schema: textColumn('schema_name'),
  table: textColumn('table_name'),
};

const APPROVAL_COLUMNS: Columns<Approval> = {
  requestId: textColumn('request_id'),
  approverId: textColumn('approver_id'),
  decision: textColumn<Approval['decision']>('decision'),
  comment: textColumn('comment'),
  at: dateColumn('at'),
};

/** The columns behind the dates a managed user's patch may change. */
export const MANAGED_USER_PATCH_COLUMNS: Columns<ManagedUserPatch> = {
  passwordSetAt: dateColumn('password_set_at'),
  lastRevokedAt: dateColumn('last_revoked_at'),
  droppedAt: dateColumn('dropped_at'),
};

const MANAGED_USER_COLUMNS: Columns<ManagedUser> = {
  serverKey: textColumn('server_key'),
  username: textColumn('username'),
  integration: textColumn('integration'),
  slackId: textColumn('slack_id'),
  email: textColumn('email'),
  createdAt: dateColumn('created_at'),
  ...MANAGED_USER_PATCH_COLUMNS,
};

/** An event's columns but its ID, which the store assigns in the order events are written. */
const AUDIT_COLUMNS: Columns<Omit<AuditEvent, 'id'>> = {
  at: dateColumn('at'),
  action: textColumn<AuditAction>('action'),
  actor: textColumn('actor'),
  actorEmail: textColumn('actor_email'),
  requestId: textColumn('request_id'),
  integration: textColumn('integration'),
  details: jsonColumn<Record<string, unknown>>('details'),
};

const NOTIFICATION_COLUMNS: Columns<NotificationRef> = {
  requestId: textColumn('request_id'),
  audience: textColumn<NotificationRef['audience']>('audience'),
  recipient: textColumn('recipient'),
  channel: textColumn('channel'),
  ts: textColumn('ts'),
  at: dateColumn('at'),
};

const SESSION_RECORD_COLUMNS: Columns<SessionRecord> = {
  id: textColumn('id'),
  requestId: textColumn('request_id'),
  integration: textColumn('integration'),
  dbUser: textColumn('db_user'),
  requester: textColumn('requester'),
  at: dateColumn('at'),
  database: textColumn('database_name'),
  sessionId: textColumn('session_id'),
  kind: textColumn<SessionRecordKind>('kind'),
  commandTag: textColumn('command_tag'),
  statement: textColumn('statement'),
};

/** Every record to its row and back, in the values one store keeps. */
export function recordRows<V>(codec: Codec<V>) {
  const encode = <T extends object>(fields: T, columns: Columns<T>) => encodeColumns(fields, columns, codec);
  const decode = <T extends object>(row: Row, columns: Columns<T>) => decodePresent(row, columns, codec);
  /** A request's columns, whatever its status and version. */
  const requestRow = (request: AccessRequest): Record<string, V | null> => ({
    ...encode<FlatRequest>(request, REQUEST_COLUMNS),
    ...encode(request.requester, REQUESTER_COLUMNS),
    ...encode(request.target, TARGET_COLUMNS),
  });
  return {
    requestRow,
    /** The columns of a new request, as it starts: in `status`, at version 1, no revocation tried. */
    newRequestRow: (request: NewAccessRequest, status: RequestStatus) =>
      requestRow({ ...request, status, revokeAttempts: 0, version: 1 } as AccessRequest),
    toRequest: (row: Row): AccessRequest => ({
      ...(decode(row, REQUEST_COLUMNS) as FlatRequest),
      requester: decode(row, REQUESTER_COLUMNS) as Person,
      target: decode(row, TARGET_COLUMNS) as Target,
    }),
    approvalRow: (approval: Approval) => encode(approval, APPROVAL_COLUMNS),
    toApproval: (row: Row) => decode(row, APPROVAL_COLUMNS) as Approval,
    managedUserRow: (user: ManagedUser) => encode(user, MANAGED_USER_COLUMNS),
    toManagedUser: (row: Row) => decode(row, MANAGED_USER_COLUMNS) as ManagedUser,
    auditRow: (event: AuditEvent) => encode(event, AUDIT_COLUMNS),
    toAuditEvent: (row: Row): AuditEvent => ({ id: Number(row.id), ...(decode(row, AUDIT_COLUMNS) as AuditEvent) }),
    notificationRow: (ref: NotificationRef) => encode(ref, NOTIFICATION_COLUMNS),
    toNotification: (row: Row) => decode(row, NOTIFICATION_COLUMNS) as NotificationRef,
    sessionRecordRow: (record: SessionRecord) => encode(record, SESSION_RECORD_COLUMNS),
    toSessionRecord: (row: Row): StoredSessionRecord => ({
      ...(decode(row, SESSION_RECORD_COLUMNS) as SessionRecord),
      seq: Number(row.seq),
    }),
  };
}
