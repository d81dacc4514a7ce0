import type { Bundle } from '../domain/bundle.ts';
import type { AccessFlow } from '../domain/flows.ts';

/** What the services read of the settings; the parsed config file is one. */
export interface ServiceSettings {
  slack: {
    /** The slash command, named in replies that tell a person what to type. */
    command: string;
    /** Slack IDs, emails or @usergroup handles of admins. */
    admins: string[];
    /** Pending requests one person may have at once. */
    maxPendingPerPerson: number;
  };
  accessFlows: AccessFlow[];
  /** Named sets of targets and permissions (`bundles:`). */
  bundles: Bundle[];
}
