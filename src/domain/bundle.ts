import type { Permission } from './permission.ts';
import type { Target } from './target.ts';

/** What a bundle's name may be: it is typed in place of a target (`/access request incident-debug`). */
export const BUNDLE_NAME_RE = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * A named set of targets and permissions (`bundles:` in the config), asked for in one request
 * whose parts are each still checked against the flows.
 */
export interface Bundle {
  name: string;
  /** Shown in the form and in help: what the bundle is for. */
  description?: string | undefined;
  parts: { target: Target; permission: Permission }[];
}
