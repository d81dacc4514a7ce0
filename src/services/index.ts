import { randomBytes } from 'node:crypto';
import { KeyedMutex } from '../lib/KeyedMutex.ts';
import type { KeyedLock } from '../ports/Coordination.ts';
import type { Logger } from '../logger.ts';
import type { AuditLog } from '../ports/AuditLog.ts';
import type { Clock } from '../ports/Clock.ts';
import type { Directory } from '../ports/Directory.ts';
import type { ManagedUserStore } from '../ports/ManagedUserStore.ts';
import type { Notifier } from '../ports/Notifier.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { SessionRecordStore } from '../ports/SessionRecords.ts';
import type { ResourceOwners } from '../ports/ResourceOwners.ts';
import type { SessionLogs } from '../ports/SessionAudit.ts';
import type { TargetDatabases } from '../ports/TargetDatabase.ts';
import { AuditTrail } from './AuditTrail.ts';
import { BreakGlassReviews } from './BreakGlassReviews.ts';
import { CatalogService } from './CatalogService.ts';
import { CredentialService } from './CredentialService.ts';
import { DepartureService } from './DepartureService.ts';
import { GrantService } from './GrantService.ts';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';
import { MaintenanceService } from './MaintenanceService.ts';
import { People } from './People.ts';
import { RequestAgainService } from './RequestAgainService.ts';
import { RequestService } from './RequestService.ts';
import { RevocationService } from './RevocationService.ts';
import type { ServiceSettings } from './ServiceSettings.ts';
import type { RandomBytes } from './shared.ts';
import { WholeRequests } from './WholeRequests.ts';
import { RequestsOnBehalf } from './RequestsOnBehalf.ts';
import { SessionAuditService } from './SessionAuditService.ts';

export type { ServiceSettings } from './ServiceSettings.ts';

/**
 * The ports the composition root hands over; {@link createServices} gives each service only the
 * ones it uses.
 */
export interface ServicePorts {
  config: ServiceSettings;
  /** The integrations served now: the config's and discovery's, with their availability. */
  integrations: IntegrationRegistry;
  store: RequestStore & ManagedUserStore & AuditLog & SessionRecordStore;
  databases: TargetDatabases;
  notifier: Notifier;
  directory: Directory;
  clock: Clock;
  logger: Logger;
  owners?: ResourceOwners;
  /** The session logs of integrations with `audit: true`. */
  sessions?: SessionLogs;
  randomBytes?: RandomBytes;
  /**
   * One holder per key wherever the work runs: across replicas on a shared state, in-process
   * otherwise (the default).
   */
  locks?: KeyedLock;
}

/** Every use case of Sesame, built on one set of ports. */
export interface Services {
  people: People;
  grants: GrantService;
  revocations: RevocationService;
  credentials: CredentialService;
  requests: RequestService;
  /** Starting a new request from one that ended. */
  requestAgain: RequestAgainService;
  maintenance: MaintenanceService;
  catalog: CatalogService;
  /** People who leave: their grants revoked, their requests cancelled, the admins told. */
  departures: DepartureService;
  /** Revoke, cancel and extend on a request, or on every part of a request for several targets. */
  whole: WholeRequests;
  /** Reviews of break-glass grants: Reviewed or Flagged, daily reminders, the admins' list. */
  breakGlass: BreakGlassReviews;
  /** Requests filed for someone else by an admin or one who could approve them. */
  onBehalf: RequestsOnBehalf;
  /** What managed users did under each grant, from the logs of integrations with `audit: true`. */
  sessionAudit?: SessionAuditService;
}

/**
 * `people` is given when the composition root built it before the services (for the notifier).
 * Each service is handed the ports below and reads only those its own deps interface names.
 */
export function createServices(ports: ServicePorts, people: People = new People(ports)): Services {
  const { config, integrations, store, databases, directory, clock, logger } = ports;
  const common = {
    integrations,
    requests: store,
    users: store,
    databases,
    notifier: ports.notifier,
    audit: new AuditTrail({ log: store, directory, clock, logger }),
    clock,
    logger,
    // One lock per database user, held by every step that changes that user, on every replica.
    userLocks: ports.locks ?? new KeyedMutex(),
    randomBytes: ports.randomBytes ?? randomBytes,
  };
  const grants = new GrantService(common);
  const sessionAudit = ports.sessions
    ? new SessionAuditService({ requests: store, sessions: store, logs: ports.sessions, integrations, clock, logger })
    : undefined;
  const revocations = new RevocationService({ ...common, people, ...(sessionAudit ? { sessions: sessionAudit } : {}) });
  const requests = new RequestService({ ...common, config, directory, people, grants });
  const departures = new DepartureService({ ...common, revocations });
  const breakGlass = new BreakGlassReviews({ ...common, people });
  return {
    people,
    grants,
    revocations,
    credentials: new CredentialService(common),
    requests,
    requestAgain: new RequestAgainService({ requests: store, options: requests }),
    maintenance: new MaintenanceService({
      ...common,
      directory,
      personLeft: (slackId) => departures.personLeft(slackId),
    }),
    catalog: new CatalogService({ integrations, databases, people }),
    departures,
    whole: new WholeRequests({ requests: store, revocations, asks: requests }),
    ...(sessionAudit ? { sessionAudit } : {}),
    onBehalf: new RequestsOnBehalf({ people, directory, asks: requests }),
    breakGlass,
  };
}
