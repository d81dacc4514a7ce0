import type { AccessRequest } from '../../domain/request.ts';
import type { Logger } from '../../logger.ts';
import type { SessionAudit, SessionCounts } from '../../ports/SessionAudit.ts';
import type { IntegrationConfig } from '../../config/schema.ts';
import type { IntegrationsInView } from '../../ports/IntegrationsInView.ts';
import type { AwsAdapters } from './awsAdapters.ts';
import { RdsLogIngestor } from './RdsLogIngestor.ts';
import { sessionCountsByGrant } from './sessionLog.ts';

/**
 * Counts a grant's sessions and statements from the RDS log files (log_connections,
 * disconnections and pgaudit lines) written while it was live. Each count reads the files
 * afresh from the grant's start, so grants of other people on the same instance never take
 * each other's lines.
 */
export function awsSessionAudit(aws: AwsAdapters, integrations: IntegrationsInView<IntegrationConfig>, logger?: Logger): SessionAudit {
  return {
    async countsFor(request: AccessRequest): Promise<SessionCounts | undefined> {
      const integration = integrations.get(request.target.integration);
      if (!integration?.audit || integration.type !== 'aws-rds-postgresql' || !request.dbUser || !request.grantedAt) return undefined;
      const reader = new RdsLogIngestor({ clients: aws.clients, resolver: aws.resolver, ...(logger ? { logger } : {}) });
      const { events, errors } = await reader.ingest(integration, { managedUsers: [request.dbUser], since: request.grantedAt });
      if (errors.length > 0) throw new Error(`Some session logs of ${integration.name} could not be read: ${errors.join('; ')}`);
      const window = {
        id: request.id,
        dbUser: request.dbUser,
        grantedAt: request.grantedAt,
        ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
        ...(request.endedAt ? { endedAt: request.endedAt } : {}),
      };
      return sessionCountsByGrant(events, [window]).get(request.id) ?? { sessions: 0, statements: 0 };
    },
  };
}
