import type { Permission } from '../domain/permission.ts';
import type { Target } from '../domain/target.ts';

/** What the request service is asked and answers: a request for access, a decision, the options a person has. */

/** One target and the permission asked for on it. */
export interface RequestPart {
  target: Target;
  permission: Permission;
}

/** What a request asks for: one target, or several (each its own part), or a bundle's. */
export interface AccessRequestInput extends RequestPart, AskFor {}

/** A request for the parts given, bundles expanded: one part per target. */
export interface PartsRequestInput extends AskFor {
  parts: (RequestPart | { bundle: string })[];
}

/** How a request is asked for, whatever its targets. */
export interface AskFor {
  requesterSlackId: string;
  /** Omitted: the flow's default duration. */
  durationMinutes?: number;
  reason?: string;
  /** Emergency access under a `breakGlass` flow: granted at once and reviewed afterwards. */
  breakGlass?: boolean;
  /** Slack ID of who files the request for the requester (`/access grant @person …`). */
  requestedBy?: string;
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

/** A bundle as the form and help show it: its name, what it is for, its parts written out. */
export interface BundleOption {
  name: string;
  description?: string | undefined;
  /** Each part as typed: `prod/app/public readonly`. */
  parts: string[];
}

export interface RequestOptions {
  integrations: IntegrationOptions[];
  /** The bundles on integrations the person may request something on (each part is still checked). */
  bundles?: BundleOption[];
  /** Integrations the person may reach with break-glass (their `breakGlass` flows), for help. */
  breakGlass?: string[];
}

export interface Decision {
  requestId: string;
  actorSlackId: string;
  decision: 'approve' | 'deny';
  comment?: string;
}
