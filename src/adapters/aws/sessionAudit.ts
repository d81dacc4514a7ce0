import type { IntegrationConfig } from '../../config/schema.ts';
import type { Logger } from '../../logger.ts';
import type { IntegrationsInView } from '../../ports/IntegrationsInView.ts';
import type { SessionLogRead, SessionLogs } from '../../ports/SessionAudit.ts';
import type { AwsAdapters } from './awsAdapters.ts';
import { RdsLogIngestor } from './RdsLogIngestor.ts';

/**
 * The RDS log files of integrations with `audit: true` (for an Aurora cluster, those of each
 * member instance): what is new since the watermarks the caller keeps, with the watermarks to
 * keep next.
 */
export function awsSessionLogs(aws: AwsAdapters, integrations: IntegrationsInView<IntegrationConfig>, logger?: Logger): SessionLogs {
  const reader = new RdsLogIngestor({ clients: aws.clients, resolver: aws.resolver, ...(logger ? { logger } : {}) });
  const audited = (name: string) => {
    const integration = integrations.get(name);
    return integration?.audit === true && integration.type === 'aws-rds-postgresql' ? integration : undefined;
  };
  return {
    audits: (name) => audited(name) !== undefined,
    async read(name, input): Promise<SessionLogRead> {
      const integration = audited(name);
      if (!integration) return { events: [], marks: {}, errors: [] };
      const { events, errors, marks } = await reader.ingest(integration, {
        managedUsers: input.users,
        marks: input.marks,
        ...(input.since ? { since: input.since } : {}),
      });
      return {
        events: events.map(({ pid: _, ...event }) => event),
        marks,
        errors,
      };
    },
  };
}
