import type { Permission } from '../domain/permission.ts';
import type { Target } from '../domain/target.ts';

/** What the request service is asked and answers: a request for access, a decision, the options a person has. */

export interface AccessRequestInput {
  requesterSlackId: string;
  target: Target;
  permission: Permission;
  /** Omitted: the flow's default duration. */
  durationMinutes?: number;
  reason?: string;
}

/** What a person may request on one integration (for the request modal and `help`). */
export interface IntegrationOptions {
  name: string;
  permissions: Permission[];
  maxDurationMinutes: number;
  defaultDurationMinutes: number;
  requireJustification: boolean;
  /** What a reason must hold on this integration (the flows' hints), e.g. "a ticket key like OPS-123". */
  justificationHint?: string | undefined;
  customAccessDetails?: string | undefined;
}

export interface RequestOptions {
  integrations: IntegrationOptions[];
}

export interface Decision {
  requestId: string;
  actorSlackId: string;
  decision: 'approve' | 'deny';
  comment?: string;
}
