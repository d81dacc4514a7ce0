import { createHash } from 'node:crypto';
import { paginateDescribeDBClusters, paginateDescribeDBInstances } from '@aws-sdk/client-rds';
import { integrationSchema, type DiscoveryConfig, type RdsIntegrationConfig } from '../../config/schema.ts';
import { InputError, isSesameError } from '../../domain/errors.ts';
import { INTEGRATION_NAME_RE } from '../../domain/identifiers.ts';
import { describeError, type Logger } from '../../logger.ts';
import type { SecretSource } from '../../ports/SecretSource.ts';
import type { AwsClients } from './AwsClients.ts';
import { awsFailure, parseArn } from './awsErrors.ts';
import { clusterResource, instanceResource, isPostgresEngine, POSTGRES_ENGINES, type RdsResource } from './RdsResolver.ts';

/** Something discovery could not read this time. What it found there before should be kept. */
export interface DiscoveryError {
  /** Index of the `discovery` entry. */
  discovery: number;
  region: string;
  /** The instance or cluster, when the failure is about one resource rather than the whole region. */
  resource?: string;
  /** The integration name the resource has (or would have). */
  integration?: string;
  message: string;
}

export interface DiscoveryResult {
  /** Every tagged PostgreSQL instance and cluster found now, as a full integration config. */
  integrations: RdsIntegrationConfig[];
  /**
   * Regions that failed (throttled past retries, access denied, unreachable) and resources that
   * could not be turned into an integration (secret unreadable). Their integrations are missing
   * from `integrations` because they could not be read, not because they are gone.
   */
  errors: DiscoveryError[];
}

export interface RdsDiscoveryOptions {
  clients: AwsClients;
  /** Reads each connector secret, for the username in it. */
  secrets: SecretSource;
  logger?: Logger;
  /** How many connector secrets are read at once; default {@link SECRET_READS}. */
  secretReads?: number;
}

/** Secrets read at once: 1,000 instances one at a time would take minutes, all at once would be throttled. */
export const SECRET_READS = 8;

/** RDS pages hold at most 100 records; fewer, larger pages mean fewer throttled calls. */
const PAGE_SIZE = 100;

interface Candidate {
  discovery: number;
  entry: DiscoveryConfig;
  resource: RdsResource;
  secretArn: string;
}

/**
 * The longest name an integration may have, from INTEGRATION_NAME_RE: 63 characters.
 * RDS identifiers are at most 63 characters of letters, digits and hyphens, so lower-casing
 * usually suffices; a region suffix can overflow, and is then shortened with a hash so that
 * two long names stay apart.
 */
const MAX_NAME_LENGTH = 63;

/**
 * The integration name of a discovered identifier: lower case, anything but letters, digits and
 * dashes turned into dashes, with `-<region>` when the same identifier exists in two regions.
 */
export function discoveredIntegrationName(identifier: string, region?: string): string {
  const base = identifier
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '');
  const name = region ? `${base}-${region.toLowerCase()}` : base;
  if (name.length <= MAX_NAME_LENGTH && INTEGRATION_NAME_RE.test(name)) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 6);
  return `${name.slice(0, MAX_NAME_LENGTH - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/**
 * Finds RDS instances and Aurora clusters running PostgreSQL that carry a discovery entry's
 * `secretTagKey` (its value: the connector's secret ARN) and the entry's `tagFilter`, in every
 * region of every entry, and turns each into an integration with the entry's defaults. Instances
 * that belong to a cluster are left out: the cluster is the integration. Each region is read
 * whole or not at all, so a region that failed is reported and never looks empty.
 */
export class RdsDiscovery {
  readonly #options: RdsDiscoveryOptions;

  constructor(options: RdsDiscoveryOptions) {
    this.#options = options;
  }

  /**
   * What the entries find now. `previous` (the integrations an earlier run found) keeps names
   * stable: a resource keeps the name it had, so one that was `<id>-<region>` because its
   * identifier also existed elsewhere stays so while that other region cannot be read.
   */
  async discover(entries: readonly DiscoveryConfig[], previous: readonly RdsIntegrationConfig[] = []): Promise<DiscoveryResult> {
    const errors: DiscoveryError[] = [];
    const scans = entries.flatMap((entry, discovery) =>
      [...new Set(entry.regions)].map(async (region) => {
        try {
          return (await this.#listRegion(region)).flatMap((resource) => {
            const secretArn = matchingSecretArn(resource, entry);
            return secretArn === undefined ? [] : [{ discovery, entry, resource, secretArn }];
          });
        } catch (err) {
          errors.push({ discovery, region, message: describeError(err) });
          return [];
        }
      }),
    );
    const candidates: Candidate[] = [];
    const seen = new Set<string>();
    // The first entry that finds a resource configures it.
    for (const found of await Promise.all(scans)) {
      for (const c of found) {
        if (seen.has(c.resource.arn)) continue;
        seen.add(c.resource.arn);
        candidates.push(c);
      }
    }
    const names = integrationNames(candidates, previous);
    // Secrets are read a few at a time; results and errors keep the candidates' order.
    const outcomes = await mapBounded(candidates, this.#options.secretReads ?? SECRET_READS, async (c) => {
      const name = names.get(c)!;
      try {
        return { integration: await this.#integration(c, name) };
      } catch (err) {
        const message = isSesameError(err) ? err.message : describeError(err);
        return {
          error: { discovery: c.discovery, region: c.resource.region, resource: c.resource.identifier, integration: name, message },
        };
      }
    });
    const integrations: RdsIntegrationConfig[] = [];
    for (const o of outcomes) {
      if (o.integration) integrations.push(o.integration);
      else if (o.error) errors.push(o.error);
    }
    for (const e of errors) this.#options.logger?.warn({ ...e }, 'RDS discovery could not read everything');
    integrations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { integrations, errors };
  }

  /** Every PostgreSQL instance (outside clusters) and cluster of a region, all pages. */
  async #listRegion(region: string): Promise<RdsResource[]> {
    const client = this.#options.clients.rds(region);
    const resources: RdsResource[] = [];
    try {
      for await (const page of paginateDescribeDBInstances(
        { client, pageSize: PAGE_SIZE },
        { Filters: [{ Name: 'engine', Values: ['postgres'] }] },
      )) {
        for (const i of page.DBInstances ?? []) if (!i.DBClusterIdentifier) resources.push(instanceResource(region, i));
      }
    } catch (err) {
      throw awsFailure(err, { doing: 'list the DB instances', action: 'rds:DescribeDBInstances', region });
    }
    try {
      for await (const page of paginateDescribeDBClusters(
        { client, pageSize: PAGE_SIZE },
        { Filters: [{ Name: 'engine', Values: [...POSTGRES_ENGINES] }] },
      )) {
        for (const c of page.DBClusters ?? []) resources.push(clusterResource(region, c));
      }
    } catch (err) {
      throw awsFailure(err, { doing: 'list the DB clusters', action: 'rds:DescribeDBClusters', region });
    }
    // The engine filter is RDS's; checked again so that a filter it ignores cannot let MySQL in.
    return resources.filter((r) => isPostgresEngine(r.engine));
  }

  async #integration(c: Candidate, name: string): Promise<RdsIntegrationConfig> {
    if (parseArn(c.secretArn)?.service !== 'secretsmanager') {
      throw new InputError(
        `The tag ${c.entry.secretTagKey} of ${c.resource.identifier} is not a Secrets Manager secret ARN (arn:aws:secretsmanager:…); put the connector secret's ARN in it.`,
      );
    }
    const secret = await this.#options.secrets.read(c.secretArn);
    if (secret.username === undefined) {
      throw new InputError(
        `The secret ${c.secretArn} (tag ${c.entry.secretTagKey} of ${c.resource.identifier}) has no username; add the connector's username to its JSON.`,
      );
    }
    const parsed = integrationSchema.safeParse({
      ...c.entry.defaults,
      name,
      type: 'aws-rds-postgresql',
      region: c.resource.region,
      ...(c.resource.kind === 'cluster' ? { clusterId: c.resource.identifier } : { instanceId: c.resource.identifier }),
      secretArn: c.secretArn,
      username: secret.username,
    });
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new InputError(`${c.resource.identifier} in ${c.resource.region} cannot become the integration ${name}: ${problems}.`);
    }
    return parsed.data as RdsIntegrationConfig;
  }
}

/** `work` on every item, at most `limit` at a time; the results in the items' order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * The integration name of each candidate: the name an earlier run gave the same resource, else
 * its identifier, with `-<region>` when the identifier is found in more than one region (or
 * its plain name is taken).
 */
function integrationNames(candidates: readonly Candidate[], previous: readonly RdsIntegrationConfig[]): Map<Candidate, string> {
  const key = (region: string, kind: string, id: string) => `${region}/${kind}/${id.toLowerCase()}`;
  const earlier = new Map(
    previous.map((p) => [key(p.region, p.clusterId !== undefined ? 'cluster' : 'instance', p.clusterId ?? p.instanceId ?? ''), p.name]),
  );
  const regionsByName = new Map<string, Set<string>>();
  for (const c of candidates) {
    const plain = discoveredIntegrationName(c.resource.identifier);
    regionsByName.set(plain, (regionsByName.get(plain) ?? new Set()).add(c.resource.region));
  }
  const names = new Map<Candidate, string>();
  const taken = new Set<string>();
  const reused = candidates.filter((c) => earlier.has(key(c.resource.region, c.resource.kind, c.resource.identifier)));
  for (const c of reused) {
    const name = earlier.get(key(c.resource.region, c.resource.kind, c.resource.identifier))!;
    if (taken.has(name)) continue;
    names.set(c, name);
    taken.add(name);
  }
  for (const c of candidates) {
    if (names.has(c)) continue;
    const plain = discoveredIntegrationName(c.resource.identifier);
    const shared = (regionsByName.get(plain)?.size ?? 0) > 1 || taken.has(plain);
    const name = shared ? discoveredIntegrationName(c.resource.identifier, c.resource.region) : plain;
    names.set(c, name);
    taken.add(name);
  }
  return names;
}

/** The secret ARN a resource's tags give for a discovery entry, when it matches the entry's filter. */
function matchingSecretArn(resource: RdsResource, entry: DiscoveryConfig): string | undefined {
  const secretArn = resource.tags[entry.secretTagKey]?.trim();
  if (!secretArn) return undefined;
  for (const [key, value] of Object.entries(entry.tagFilter ?? {})) if (resource.tags[key] !== value) return undefined;
  return secretArn;
}
