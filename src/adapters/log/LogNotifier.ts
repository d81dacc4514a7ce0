import { formatTarget } from '../../domain/target.ts';
import type { AccessRequest } from '../../domain/request.ts';
import type { Logger } from '../../logger.ts';
import type { Notifier } from '../../ports/Notifier.ts';

/**
 * A notifier that writes what would be said to the log: for running without Slack (the CLI's
 * sweep) and as the record next to the Slack notifier.
 */
export class LogNotifier implements Notifier {
  constructor(private readonly logger: Logger) {}

  private fields(r: AccessRequest) {
    return {
      requestId: r.id,
      status: r.status,
      requester: r.requester.slackId,
      target: formatTarget(r.target),
      permission: r.permission,
      ...(r.expiresAt ? { expiresAt: r.expiresAt.toISOString() } : {}),
    };
  }

  async approvalRequested(r: AccessRequest): Promise<void> {
    this.logger.info({ ...this.fields(r), approvers: r.approverGroups.flatMap((g) => g.slackIds) }, 'approval requested');
  }

  async requestUpdated(r: AccessRequest): Promise<void> {
    this.logger.info(this.fields(r), `request ${r.status}`);
  }

  async expiringSoon(r: AccessRequest): Promise<void> {
    this.logger.info(this.fields(r), 'access expires soon');
  }

  async revocationFailing(r: AccessRequest, attempts: number, error: string): Promise<void> {
    this.logger.error({ ...this.fields(r), attempts, error }, 'revocation keeps failing; an admin should look');
  }
}
