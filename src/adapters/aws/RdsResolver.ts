import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  type DBCluster,
  type DBInstance,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import type { RdsIntegrationConfig } from '../../config/schema.ts';
import { InputError, NotFoundError, TargetUnavailableError } from '../../domain/errors.ts';
import { systemClock, type Clock } from '../../ports/Clock.ts';
import type { AwsClients } from './AwsClients.ts';
import { awsErrorCode, awsFailure, parseArn } from './awsErrors.ts';

/** The RDS engines that are PostgreSQL: RDS for PostgreSQL (also Multi-AZ DB clusters) and Aurora PostgreSQL. */
export const POSTGRES_ENGINES: readonly string[] = ['postgres', 'aurora-postgresql'];

export function isPostgresEngine(engine: string | undefined): boolean {
  return engine !== undefined && POSTGRES_ENGINES.includes(engine);
}

/** An RDS DB instance or DB cluster, as Sesame needs it. */
export interface RdsResource {
  kind: 'instance' | 'cluster';
  /** The DB instance or DB cluster identifier (RDS stores them lower case). */
  identifier: string;
  region: string;
  arn: string;
  /** `aws`, `aws-cn`, `aws-us-gov`: the partition IAM policy ARNs are written in. */
  partition: string;
  accountId: string;
  /**
   * The id IAM database authentication policies name and Sesame keys managed users by: the
   * `DbiResourceId` of a standalone instance, the `DbClusterResourceId` of a cluster and of each
   * of its members (they are one server: same roles, same users).
   */
  resourceId: string;
  engine: string;
  engineVersion: string;
  status: string;
  /** Where RDS says the server answers (a cluster's writer endpoint); absent while it is being created. */
  endpoint?: { host: string; port: number };
  iamAuthEnabled: boolean;
  tags: Record<string, string>;
  /** A cluster's member instances, writer first; empty for an instance. Log files live on instances. */
  members: string[];
  /** The cluster an instance belongs to. */
  clusterId?: string;
}

/** An integration's resource, with the key its managed users are filed under. */
export interface ResolvedRdsIntegration extends RdsResource {
  integration: string;
  /** `rds:<region>:<resourceId>`. */
  serverKey: string;
}

export function tagsOf(list: readonly Tag[] | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of list ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
  return tags;
}

function arnParts(arn: string): { partition: string; accountId: string } {
  const parsed = parseArn(arn);
  return { partition: parsed?.partition ?? 'aws', accountId: parsed?.accountId ?? '' };
}

/** What DescribeDBInstances and DescribeDBClusters both describe, under the same names. */
type Described = Pick<DBInstance & DBCluster, 'Engine' | 'EngineVersion' | 'IAMDatabaseAuthenticationEnabled' | 'TagList'>;

/** The fields an instance and a cluster name differently, read by the caller. */
interface Named {
  arn: string | undefined;
  identifier: string | undefined;
  resourceId: string | undefined;
  status: string | undefined;
  endpoint: { host: string | undefined; port: number | undefined };
}

function resourceOf(kind: RdsResource['kind'], region: string, d: Described, named: Named): RdsResource {
  const arn = named.arn ?? '';
  const { host, port } = named.endpoint;
  return {
    kind,
    identifier: named.identifier ?? '',
    region,
    arn,
    ...arnParts(arn),
    resourceId: named.resourceId ?? '',
    engine: d.Engine ?? '',
    engineVersion: d.EngineVersion ?? '',
    status: named.status ?? '',
    ...(host ? { endpoint: { host, port: port ?? 5432 } } : {}),
    iamAuthEnabled: d.IAMDatabaseAuthenticationEnabled === true,
    tags: tagsOf(d.TagList),
    members: [],
  };
}

/** A DescribeDBInstances entry as an {@link RdsResource}. */
export function instanceResource(region: string, i: DBInstance): RdsResource {
  const endpoint = { host: i.Endpoint?.Address, port: i.Endpoint?.Port };
  const named = {
    arn: i.DBInstanceArn,
    identifier: i.DBInstanceIdentifier,
    resourceId: i.DbiResourceId,
    status: i.DBInstanceStatus,
    endpoint,
  };
  return { ...resourceOf('instance', region, i, named), ...(i.DBClusterIdentifier ? { clusterId: i.DBClusterIdentifier } : {}) };
}

/** A DescribeDBClusters entry as an {@link RdsResource}; the writer first among its members. */
export function clusterResource(region: string, c: DBCluster): RdsResource {
  const writerFirst = [...(c.DBClusterMembers ?? [])].sort(
    (a, b) => Number(b.IsClusterWriter === true) - Number(a.IsClusterWriter === true),
  );
  const named = { arn: c.DBClusterArn, identifier: c.DBClusterIdentifier, resourceId: c.DbClusterResourceId, status: c.Status };
  return {
    ...resourceOf('cluster', region, c, { ...named, endpoint: { host: c.Endpoint, port: c.Port } }),
    members: writerFirst.map((m) => m.DBInstanceIdentifier ?? '').filter((id) => id !== ''),
  };
}

/** The key managed users on this resource are filed under. */
export function rdsServerKey(resource: Pick<RdsResource, 'region' | 'resourceId'>): string {
  return `rds:${resource.region}:${resource.resourceId}`;
}

/** The RDS resource an integration names: its instance or cluster, and in which region. */
export function rdsTargetOf(integration: RdsIntegrationConfig): { kind: 'instance' | 'cluster'; identifier: string } {
  if (integration.clusterId !== undefined) return { kind: 'cluster', identifier: integration.clusterId };
  if (integration.instanceId !== undefined) return { kind: 'instance', identifier: integration.instanceId };
  throw new InputError(`The integration ${integration.name} names neither instanceId nor clusterId; give one of them.`);
}

const NOT_FOUND_CODES = new Set(['DBInstanceNotFoundFault', 'DBInstanceNotFound', 'DBClusterNotFoundFault', 'DBClusterNotFound']);

/** RDS has no such instance or cluster; {@link RdsResolver.resolve} words it for the integration. */
class ResourceMissing extends Error {
  constructor(cause?: unknown) {
    super('RDS has no such resource', { cause });
  }
}

export interface RdsResolverOptions {
  clients: AwsClients;
  clock?: Clock;
  /** How long an answer from RDS is reused. Default 5 minutes. */
  ttlMs?: number;
}

interface CacheEntry {
  at: number;
  resource: Promise<RdsResource>;
}

/**
 * Finds what RDS says about an integration's instance or cluster: endpoint, engine, IAM
 * authentication, resource id, tags, members. Answers are cached for a while (RDS rate-limits
 * Describe calls per account) and shared by every integration that names the same resource.
 */
export class RdsResolver {
  readonly #clients: AwsClients;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(options: RdsResolverOptions) {
    this.#clients = options.clients;
    this.#clock = options.clock ?? systemClock;
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
  }

  /**
   * The integration's resource. A missing one is a NotFoundError and one that does not run
   * PostgreSQL an InputError, each naming the integration and what to fix; AWS failures are
   * TargetUnavailableErrors. With `fresh`, RDS is asked again whatever the cache holds.
   */
  async resolve(integration: RdsIntegrationConfig, options: { fresh?: boolean } = {}): Promise<ResolvedRdsIntegration> {
    const { kind, identifier } = rdsTargetOf(integration);
    const region = integration.region;
    let resource: RdsResource;
    try {
      resource = await this.#lookup(region, kind, identifier, options.fresh === true);
    } catch (err) {
      if (!(err instanceof ResourceMissing)) throw err;
      const what = kind === 'instance' ? 'DB instance' : 'DB cluster';
      throw new NotFoundError(
        `The integration ${integration.name} names ${kind === 'instance' ? 'instanceId' : 'clusterId'} ${identifier}, but RDS has no ${what} ${identifier} in ${region}. Fix the identifier or the region in the config, or check that Sesame's AWS credentials belong to the account that holds it.`,
        { cause: err.cause },
      );
    }
    if (!isPostgresEngine(resource.engine)) {
      throw new InputError(
        `The integration ${integration.name} names the ${kind === 'instance' ? 'DB instance' : 'DB cluster'} ${identifier} in ${region}, which runs ${resource.engine || 'an unknown engine'}, not PostgreSQL. Sesame works with the ${POSTGRES_ENGINES.join(' and ')} engines: point the integration at a PostgreSQL ${kind} or remove it.`,
      );
    }
    return { ...resource, integration: integration.name, serverKey: rdsServerKey(resource) };
  }

  /**
   * Where Sesame connects: the config's `host` and `port` when given (a tunnel or proxy), else
   * the endpoint RDS reports.
   */
  async endpoint(integration: RdsIntegrationConfig): Promise<{ host: string; port: number }> {
    if (integration.host !== undefined && integration.port !== undefined) return { host: integration.host, port: integration.port };
    const resource = await this.resolve(integration);
    const host = integration.host ?? resource.endpoint?.host;
    const port = integration.port ?? resource.endpoint?.port;
    if (host === undefined || port === undefined) {
      throw new TargetUnavailableError(
        `RDS reports no endpoint for ${resource.identifier} (integration ${integration.name}, status ${resource.status || 'unknown'}) yet. Sesame tries again; wait until it is available.`,
      );
    }
    return { host, port };
  }

  /** Forgets every cached answer, so the next call asks RDS. */
  forget(): void {
    this.#cache.clear();
  }

  #lookup(region: string, kind: 'instance' | 'cluster', identifier: string, fresh: boolean): Promise<RdsResource> {
    const key = `${region}/${kind}/${identifier.toLowerCase()}`;
    const now = this.#clock.now().getTime();
    const cached = this.#cache.get(key);
    if (cached && !fresh && now - cached.at < this.#ttlMs) return cached.resource;
    const resource = kind === 'instance' ? this.#describeInstance(region, identifier) : this.#describeCluster(region, identifier);
    const entry = { at: now, resource };
    this.#cache.set(key, entry);
    // A failure is not remembered: the next call asks again.
    resource.catch(() => {
      if (this.#cache.get(key) === entry) this.#cache.delete(key);
    });
    return resource;
  }

  async #describeInstance(region: string, identifier: string): Promise<RdsResource> {
    const found = await this.#describe(
      region,
      `the DB instance ${identifier}`,
      'rds:DescribeDBInstances',
      async (client) => (await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }))).DBInstances?.[0],
    );
    const instance = instanceResource(region, found);
    if (!instance.clusterId) return instance;
    // A cluster's member is the cluster's server: users and IAM policies go by the cluster's id.
    try {
      const cluster = await this.#lookup(region, 'cluster', instance.clusterId, false);
      return { ...instance, resourceId: cluster.resourceId };
    } catch (err) {
      if (err instanceof ResourceMissing) return instance;
      throw err;
    }
  }

  async #describeCluster(region: string, identifier: string): Promise<RdsResource> {
    const found = await this.#describe(
      region,
      `the DB cluster ${identifier}`,
      'rds:DescribeDBClusters',
      async (client) => (await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }))).DBClusters?.[0],
    );
    return clusterResource(region, found);
  }

  /** One Describe call: the resource, ResourceMissing, or an AWS failure worded for the admin. */
  async #describe<T>(region: string, what: string, action: string, call: (client: RDSClient) => Promise<T | undefined>): Promise<T> {
    let found: T | undefined;
    try {
      found = await call(this.#clients.rds(region));
    } catch (err) {
      if (NOT_FOUND_CODES.has(awsErrorCode(err) ?? '')) throw new ResourceMissing(err);
      throw awsFailure(err, { doing: `describe ${what}`, action, region });
    }
    if (found === undefined) throw new ResourceMissing();
    return found;
  }
}
