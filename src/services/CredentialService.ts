import { ConflictError, NotAllowedError } from '../domain/errors.ts';
import { iamConnectDetails } from '../domain/iamConnect.ts';
import type { Integration } from '../domain/integration.ts';
import { mintPassword } from '../domain/password.ts';
import { isGranted, type AccessRequest, type GrantedRequest } from '../domain/request.ts';
import type { KeyedLock } from '../ports/Coordination.ts';
import type { Clock } from '../ports/Clock.ts';
import type { ManagedUserStore } from '../ports/ManagedUserStore.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { ConnectionInfo, TargetDatabases } from '../ports/TargetDatabase.ts';
import type { AuditTrail } from './AuditTrail.ts';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';
import { requireIntegration, requireRequest, type RandomBytes } from './shared.ts';
import { userKey } from './userGrants.ts';

/** What a person needs to connect. Holds a password: show it to that person only, never log it. */
export interface Credentials {
  requestId: string;
  host: string;
  port: number;
  database: string;
  username: string;
  sslMode: string;
  /** Absent with `userAuth: iam`. */
  password?: string;
  /** With `userAuth: iam`: the commands that mint a token and connect. */
  iamCommands?: string[];
  /** With `userAuth: iam`: the IAM policy the person's AWS identity needs, as JSON. */
  iamPolicy?: string;
  uri: string;
  expiresAt: Date;
  customAccessDetails?: string;
}

/** The ports revealing credentials uses. */
export interface CredentialDeps {
  integrations: Pick<IntegrationRegistry, 'get' | 'list'>;
  requests: Pick<RequestStore, 'getRequest'>;
  users: Pick<ManagedUserStore, 'updateManagedUser'>;
  databases: TargetDatabases;
  audit: AuditTrail;
  clock: Clock;
  /** Per database user; shared with every other step that changes users. */
  userLocks: KeyedLock;
  randomBytes: RandomBytes;
}

/** What a granted request's credentials share, whichever way the person logs in. */
type CommonCredentials = Omit<Credentials, 'uri' | 'password' | 'iamCommands' | 'iamPolicy'>;

/** Shows a person with a live grant how to connect. */
export class CredentialService {
  constructor(private readonly deps: CredentialDeps) {}

  /**
   * Shows the requester how to connect: mints a new random password (never stored; the database
   * keeps only its hash) or, with `userAuth: iam`, gives the token commands.
   */
  async revealCredentials(requestId: string, actorSlackId: string): Promise<Credentials> {
    const req = await requireRequest(this.deps.requests, requestId);
    if (req.requester.slackId !== actorSlackId) {
      throw new NotAllowedError(`Only the person who asked for ${req.id} can see its credentials.`);
    }
    if (!isGranted(req)) {
      throw new ConflictError(`${req.id} is ${req.status}; credentials exist only while access is granted.`);
    }
    const integration = requireIntegration(this.deps.integrations, req.target.integration);
    const db = this.deps.databases.get(integration.name);
    const info = await db.connectionInfo();
    const database = req.target.database ?? info.database;
    const base: CommonCredentials = {
      requestId: req.id,
      host: info.host,
      port: info.port,
      database,
      username: req.dbUser,
      sslMode: info.sslMode,
      expiresAt: req.expiresAt,
      ...(integration.customAccessDetails ? { customAccessDetails: integration.customAccessDetails } : {}),
    };
    if (integration.userAuth === 'iam') return this.iamCredentials(req, integration, info, base, actorSlackId);
    const password = mintPassword((n) => this.deps.randomBytes(n));
    await this.deps.userLocks.run(userKey(req.serverKey, req.dbUser), () => db.setPassword(req.dbUser, password));
    await this.deps.users.updateManagedUser(req.serverKey, req.dbUser, { passwordSetAt: this.deps.clock.now() });
    await this.deps.audit.record('credentials.revealed', actorSlackId, req, { auth: 'password' });
    const hostPart = `@${info.host}:${info.port}/${encodeURIComponent(database)}?sslmode=${info.sslMode}`;
    return { ...base, password, uri: `${uriBase(req)}:${encodeURIComponent(password)}${hostPart}` };
  }

  /**
   * No password exists: the person mints a 15-minute token with their own AWS identity, which
   * needs rds-db:connect on this database user.
   */
  private async iamCredentials(
    req: GrantedRequest,
    integration: Integration,
    info: ConnectionInfo,
    base: CommonCredentials,
    actorSlackId: string,
  ): Promise<Credentials> {
    const region = integration.type === 'aws-rds-postgresql' ? integration.region : (info.iam?.region ?? '');
    const iam = iamConnectDetails({
      region,
      accountId: info.iam?.accountId ?? '<account-id>',
      resourceId: info.iam?.resourceId ?? '<resource-id>',
      ...(info.iam?.partition ? { partition: info.iam.partition } : {}),
      ...(info.iam?.tokenHost ? { tokenHost: info.iam.tokenHost, tokenPort: info.iam.tokenPort } : {}),
      host: info.host,
      port: info.port,
      username: req.dbUser,
      database: base.database,
      sslMode: info.sslMode,
    });
    await this.deps.audit.record('credentials.revealed', actorSlackId, req, { auth: 'iam' });
    return {
      ...base,
      sslMode: iam.sslMode,
      iamCommands: [iam.tokenCommand, iam.psqlCommand],
      iamPolicy: iam.policyJson,
      uri: `${uriBase(req)}@${info.host}:${info.port}/${encodeURIComponent(base.database)}?sslmode=${iam.sslMode}`,
    };
  }
}

function uriBase(req: AccessRequest & { dbUser: string }): string {
  return `postgresql://${encodeURIComponent(req.dbUser)}`;
}
