/**
 * A fake AWS on loopback for RDS and Secrets Manager, speaking the wire protocols the real SDK
 * clients speak, so tests point `@aws-sdk/client-rds` and `@aws-sdk/client-secrets-manager` at it
 * through `AWS_ENDPOINT_URL_RDS` / `AWS_ENDPOINT_URL_SECRETS_MANAGER` (or a client's `endpoint`)
 * and exercise the same serialization, pagination, error and retry code as in production.
 *
 * - RDS (API version 2014-10-31) speaks awsQuery: form-encoded POSTs, XML answers, `Marker`
 *   pagination, `<ErrorResponse>` errors. Actions: DescribeDBInstances, DescribeDBClusters,
 *   ListTagsForResource, DescribeDBLogFiles, DownloadDBLogFilePortion.
 * - Secrets Manager speaks JSON 1.1 (`X-Amz-Target: secretsmanager.<Action>`). Actions:
 *   GetSecretValue, DescribeSecret.
 *
 * State is kept per region, the region being the one in the request's SigV4 credential scope, as
 * AWS keeps it. Any access key is accepted unless {@link FakeAwsOptions.credentials} lists the
 * valid ones, in which case signatures are checked too. Tests arrange the state and inject
 * throttling or failures through plain methods, and read back every call with {@link FakeAws.calls}.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConflictError, InputError, NotFoundError } from '../../../src/domain/errors.ts';
import { systemClock, type Clock } from '../../../src/ports/Clock.ts';
import {
  parseQueryForm,
  queryErrorResponse,
  queryResponse,
  stringParam,
  xmlElement,
  xmlList,
  type QueryStructure,
  type QueryValue,
} from './awsQuery.ts';
import { dbClusterXml, dbInstanceXml, tagListXml, type ClusterMember } from './rdsXml.ts';
import { computeSignature, parseAuthorizationHeader, sha256Hex, signaturesMatch, type AuthorizationHeader } from './sigv4.ts';

export interface FakeAwsOptions {
  /** The account in ARNs. Default `123456789012`. */
  accountId?: string;
  /**
   * The most records a Describe* page holds, whatever `MaxRecords` asks for. AWS's own limit is
   * 100 (the default); a smaller one lets a test cross page boundaries with a few resources.
   */
  pageSize?: number;
  /**
   * The most lines one DownloadDBLogFilePortion returns, whatever `NumberOfLines` asks for.
   * AWS's own limit is 10,000 lines (and 1 MB, which always applies).
   */
  logPortionLines?: number;
  /**
   * Access key id → secret access key. When given, other keys are refused as AWS refuses them
   * and every signature is checked; when not, any key is accepted and signatures are not checked.
   */
  credentials?: Record<string, string>;
  /** Creation and log times. Default: the system clock. */
  clock?: Clock;
}

/** What DB instances and clusters have alike. */
export interface FakeRdsResource {
  region: string;
  /** Lower case, as RDS stores identifiers. */
  id: string;
  arn: string;
  /**
   * The id IAM database authentication policies name: `DbiResourceId` (`db-…`) of an instance,
   * `DbClusterResourceId` (`cluster-…`) of a cluster.
   */
  resourceId: string;
  engine: string;
  engineVersion: string;
  status: string;
  /** `Endpoint.Address` of an instance, `Endpoint` (the writer's) of a cluster. */
  endpoint: string;
  port: number;
  /** `IAMDatabaseAuthenticationEnabled`. */
  iamAuth: boolean;
  tags: Record<string, string>;
  createdAt: Date;
}

/** An RDS DB instance as the fake holds it. */
export interface FakeDbInstance extends FakeRdsResource {
  instanceClass: string;
  /** The Aurora cluster this instance belongs to. */
  clusterId?: string;
  /** Whether it is its cluster's writer; without a flagged writer, the first member added is. */
  clusterWriter?: boolean;
}

/** An Aurora DB cluster as the fake holds it; its members are the instances naming it. */
export interface FakeDbCluster extends FakeRdsResource {
  readerEndpoint: string;
}

/** What adding an instance or a cluster takes; all but region and id have defaults. */
export interface AddRdsResourceInput {
  region: string;
  id: string;
  engineVersion?: string;
  /** Default `available`. */
  status?: string;
  /** Default an `…rds.amazonaws.com` name; tests that connect give `127.0.0.1`. */
  endpoint?: string;
  /** Default 5432 (3306 for MySQL and MariaDB engines). */
  port?: number;
  tags?: Record<string, string>;
  /** Default false. */
  iamAuth?: boolean;
  resourceId?: string;
}

export interface AddInstanceInput extends AddRdsResourceInput {
  /** Default `postgres`, or the cluster's engine when `clusterId` names a known cluster. */
  engine?: string;
  instanceClass?: string;
  clusterId?: string;
  clusterWriter?: boolean;
}

export interface AddClusterInput extends AddRdsResourceInput {
  /** Default `aurora-postgresql`. */
  engine?: string;
  readerEndpoint?: string;
}

/** What may change on an instance after it was added. */
export type InstanceUpdate = Partial<
  Pick<FakeDbInstance, 'engine' | 'engineVersion' | 'status' | 'endpoint' | 'port' | 'iamAuth' | 'clusterWriter'>
>;
/** What may change on a cluster after it was added. */
export type ClusterUpdate = Partial<
  Pick<FakeDbCluster, 'engine' | 'engineVersion' | 'status' | 'endpoint' | 'readerEndpoint' | 'port' | 'iamAuth'>
>;

/** A secret version as it was stored. */
export interface StoredSecret {
  arn: string;
  name: string;
  versionId: string;
}

/** One request the fake answered (or refused), for assertions. */
export interface FakeAwsCall {
  service: 'rds' | 'secretsmanager';
  action: string;
  /** From the SigV4 credential scope. */
  region: string;
  /** From the SigV4 credential scope. */
  accessKeyId: string;
  /** RDS: the form with lists folded back (values stay strings). Secrets Manager: the JSON body. */
  params: Record<string, unknown>;
  status: number;
  /** The error code answered, if the call failed. */
  errorCode?: string;
}

export type FakeAwsAction =
  | 'DescribeDBInstances'
  | 'DescribeDBClusters'
  | 'ListTagsForResource'
  | 'DescribeDBLogFiles'
  | 'DownloadDBLogFilePortion'
  | 'GetSecretValue'
  | 'DescribeSecret';

type Service = FakeAwsCall['service'];

const RDS_ACTIONS = new Set<string>([
  'DescribeDBInstances',
  'DescribeDBClusters',
  'ListTagsForResource',
  'DescribeDBLogFiles',
  'DownloadDBLogFilePortion',
]);
const SECRETS_MANAGER_ACTIONS = new Set<string>(['GetSecretValue', 'DescribeSecret']);

/** The signing names the SDKs put in the credential scope. */
const SIGNING_NAME: Record<Service, string> = { rds: 'rds', secretsmanager: 'secretsmanager' };

/** AWS's own bounds: Describe* pages hold 20 to 100 records; a log portion at most 10,000 lines and 1 MB. */
const MIN_MAX_RECORDS = 20;
const MAX_MAX_RECORDS = 100;
const MAX_LOG_PORTION_LINES = 10_000;
const MAX_LOG_PORTION_BYTES = 1024 * 1024;

/**
 * An error in AWS's own vocabulary (code and HTTP status) on its way to the wire. It never leaves
 * the fake: the SDK client on the other side turns the response into its own exception.
 */
class AwsWireError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const invalidParameter = (message: string) => new AwsWireError(400, 'InvalidParameterValue', message);
const missingParameter = (name: string) => new AwsWireError(400, 'MissingParameter', `The request must contain the parameter ${name}`);
const instanceNotFound = (id: string) => new AwsWireError(404, 'DBInstanceNotFound', `DBInstance ${id} not found.`);
const clusterNotFound = (id: string) => new AwsWireError(404, 'DBClusterNotFoundFault', `DBCluster ${id} not found.`);
const secretNotFound = (detail = '') =>
  new AwsWireError(400, 'ResourceNotFoundException', `Secrets Manager can't find the specified secret${detail}.`);

/** A failure the test asked for: answered to the next `remaining` calls of one action. */
interface InjectedFault {
  status: number;
  code: string;
  message: string;
  remaining: number;
}

interface LogFile {
  name: string;
  data: Buffer;
  lastWritten: Date;
}

interface SecretVersion {
  id: string;
  value: string;
  stages: string[];
  createdAt: Date;
}

interface Secret {
  arn: string;
  name: string;
  createdAt: Date;
  lastChangedAt: Date;
  deletedAt?: Date;
  versions: SecretVersion[];
}

interface RegionState {
  instances: Map<string, FakeDbInstance>;
  clusters: Map<string, FakeDbCluster>;
  logFiles: Map<string, Map<string, LogFile>>;
  secrets: Secret[];
}

function randomId(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

function defaultPort(engine: string): number {
  return /mysql|mariadb/.test(engine) ? 3306 : 5432;
}

/** A copy for the caller, so that changing it changes nothing in the fake. */
function copyResource<T extends FakeRdsResource>(resource: T): T {
  return { ...resource, tags: { ...resource.tags }, createdAt: new Date(resource.createdAt) };
}

/** RDS identifiers are case-insensitive; ARNs are compared as given. */
function isIdOrArn(resource: { id: string; arn: string }, value: string): boolean {
  return resource.id === value.toLowerCase() || resource.arn === value;
}

/** `Filters` as the form carried them: `[{ Name, Values: [...] }]`. */
function filtersParam(params: QueryStructure): { name: string; values: string[] }[] {
  const raw = params.Filters;
  if (raw === undefined || raw === '') return [];
  if (!Array.isArray(raw)) throw invalidParameter('Filters must be a list of filters.');
  return raw.map((filter: QueryValue) => {
    if (typeof filter !== 'object' || Array.isArray(filter)) throw invalidParameter('A filter needs a Name and Values.');
    const name = stringParam(filter, 'Name');
    if (!name) throw missingParameter('Filters.Filter.N.Name');
    const values = filter.Values;
    return { name, values: Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [] };
  });
}

function integerParam(params: QueryStructure, name: string): number | undefined {
  const raw = stringParam(params, name);
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw)) throw invalidParameter(`Invalid value ${raw} for ${name}: not an integer.`);
  return Number(raw);
}

function requiredParam(params: QueryStructure, name: string): string {
  const value = stringParam(params, name);
  if (!value) throw missingParameter(name);
  return value;
}

/** The offset just past each line from `from` on: after each newline, and the end for a last line without one. */
function lineEnds(data: Buffer, from: number): number[] {
  const ends: number[] = [];
  let at = from;
  while (at < data.length) {
    const newline = data.indexOf(0x0a, at);
    at = newline === -1 ? data.length : newline + 1;
    ends.push(at);
  }
  return ends;
}

/** Log markers carry the byte offset of the next unread line, so they stay valid while the file grows. */
function logMarker(offset: number): string {
  return `0:${offset}`;
}

export class FakeAws {
  /** Base URL, e.g. `http://127.0.0.1:41234`; both services answer on it. */
  readonly url: string;
  private readonly regions = new Map<string, RegionState>();
  private readonly faults = new Map<string, InjectedFault[]>();
  private readonly recorded: FakeAwsCall[] = [];
  private readonly accountId: string;
  private readonly clock: Clock;
  /** The part of default endpoint names RDS derives from the account. */
  private readonly endpointSuffix = randomId(12).toLowerCase();
  private stopped?: Promise<void>;

  private constructor(
    private readonly server: Server,
    private readonly options: FakeAwsOptions,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.accountId = options.accountId ?? '123456789012';
    this.clock = options.clock ?? systemClock;
  }

  /** Starts the fake on a free loopback port. Call {@link stop} when done. */
  static async start(options: FakeAwsOptions = {}): Promise<FakeAws> {
    if (options.pageSize !== undefined && !(options.pageSize >= 1)) {
      throw new InputError('pageSize must be at least 1.');
    }
    if (options.logPortionLines !== undefined && !(options.logPortionLines >= 1)) {
      throw new InputError('logPortionLines must be at least 1.');
    }
    let fake: FakeAws | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    fake = new FakeAws(server, options);
    return fake;
  }

  /** Closes the server and any connections the SDK keeps alive. Safe to call twice. */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve, reject) => {
      this.server.close((err) => (err ? reject(err) : resolve()));
      this.server.closeAllConnections();
    });
    return this.stopped;
  }

  // ── Control API: RDS ─────────────────────────────────────────────────────────────────────────

  /** What instances and clusters share, with the defaults RDS would fill in. */
  private newResource(input: AddRdsResourceInput, kind: 'db' | 'cluster', engine: string): FakeRdsResource {
    const id = input.id.toLowerCase();
    const host = `${this.endpointSuffix}.${input.region}.rds.amazonaws.com`;
    return {
      region: input.region,
      id,
      arn: `arn:aws:rds:${input.region}:${this.accountId}:${kind}:${id}`,
      resourceId: input.resourceId ?? `${kind}-${randomId(26)}`,
      engine,
      engineVersion: input.engineVersion ?? '16.4',
      status: input.status ?? 'available',
      endpoint: input.endpoint ?? (kind === 'db' ? `${id}.${host}` : `${id}.cluster-${host}`),
      port: input.port ?? defaultPort(engine),
      iamAuth: input.iamAuth ?? false,
      tags: { ...input.tags },
      createdAt: this.clock.now(),
    };
  }

  /** Adds a DB instance; returns it with its ARN and resource id. */
  addInstance(input: AddInstanceInput): FakeDbInstance {
    const state = this.region(input.region);
    const clusterId = input.clusterId?.toLowerCase();
    const engine = input.engine ?? (clusterId && state.clusters.get(clusterId)?.engine) ?? 'postgres';
    const instance: FakeDbInstance = {
      ...this.newResource(input, 'db', engine),
      instanceClass: input.instanceClass ?? (clusterId ? 'db.r6g.large' : 'db.t4g.micro'),
      clusterId,
      clusterWriter: input.clusterWriter,
    };
    if (state.instances.has(instance.id)) throw new ConflictError(`DB instance ${instance.id} already exists in ${input.region}.`);
    state.instances.set(instance.id, instance);
    return copyResource(instance);
  }

  /** Adds an Aurora DB cluster; its members are the instances added with its `clusterId`. */
  addCluster(input: AddClusterInput): FakeDbCluster {
    const state = this.region(input.region);
    const base = this.newResource(input, 'cluster', input.engine ?? 'aurora-postgresql');
    const cluster: FakeDbCluster = {
      ...base,
      readerEndpoint: input.readerEndpoint ?? `${base.id}.cluster-ro-${this.endpointSuffix}.${input.region}.rds.amazonaws.com`,
    };
    if (state.clusters.has(cluster.id)) throw new ConflictError(`DB cluster ${cluster.id} already exists in ${input.region}.`);
    state.clusters.set(cluster.id, cluster);
    return copyResource(cluster);
  }

  /** Changes an instance in place (status, endpoint, IAM auth, …). */
  updateInstance(region: string, id: string, update: InstanceUpdate): FakeDbInstance {
    const instance = this.existingInstance(region, id);
    Object.assign(instance, update);
    return copyResource(instance);
  }

  /** Changes a cluster in place. */
  updateCluster(region: string, id: string, update: ClusterUpdate): FakeDbCluster {
    const cluster = this.existingCluster(region, id);
    Object.assign(cluster, update);
    return copyResource(cluster);
  }

  /** Deletes an instance and its log files, as deleting the DB instance does. */
  removeInstance(region: string, id: string): void {
    const instance = this.existingInstance(region, id);
    const state = this.region(region);
    state.instances.delete(instance.id);
    state.logFiles.delete(instance.id);
  }

  /** Deletes a cluster; its member instances stay until removed. */
  removeCluster(region: string, id: string): void {
    this.region(region).clusters.delete(this.existingCluster(region, id).id);
  }

  /** Replaces the tags of the instance or cluster with this ARN. */
  setTags(arn: string, tags: Record<string, string>): void {
    const resource = this.resourceByArn(arn);
    if (!resource) throw new NotFoundError(`No DB instance or cluster has the ARN ${arn}.`);
    resource.tags = { ...tags };
  }

  /** Adds (or replaces) a log file of an instance, e.g. `error/postgresql.log.2026-06-01-09`. */
  addLogFile(region: string, instanceId: string, name: string, content: string, options: { lastWritten?: Date } = {}): void {
    const instance = this.existingInstance(region, instanceId);
    const files = this.logFilesOf(region, instance.id);
    files.set(name, { name, data: Buffer.from(content, 'utf8'), lastWritten: options.lastWritten ?? this.clock.now() });
  }

  /** Appends to a log file (created if missing), as PostgreSQL writes to the current one. */
  appendLogFile(region: string, instanceId: string, name: string, content: string): void {
    const instance = this.existingInstance(region, instanceId);
    const files = this.logFilesOf(region, instance.id);
    const existing = files.get(name);
    const data = Buffer.concat([existing?.data ?? Buffer.alloc(0), Buffer.from(content, 'utf8')]);
    files.set(name, { name, data, lastWritten: this.clock.now() });
  }

  // ── Control API: Secrets Manager ─────────────────────────────────────────────────────────────

  /**
   * Stores a new version of a secret, by name or ARN; an object is stored as its JSON. Putting
   * again is a rotation: the new version becomes AWSCURRENT with a new VersionId, the old one
   * AWSPREVIOUS. A name gets an ARN with AWS's random six-character suffix; an ARN is kept as is.
   */
  putSecret(region: string, nameOrArn: string, value: string | Record<string, unknown>): StoredSecret {
    const state = this.region(region);
    let secret = this.findSecret(state, nameOrArn);
    const now = this.clock.now();
    if (!secret) {
      secret = { ...this.newSecretIdentity(region, nameOrArn), createdAt: now, lastChangedAt: now, versions: [] };
      state.secrets.push(secret);
    }
    for (const version of secret.versions) {
      if (version.stages.includes('AWSCURRENT')) version.stages = ['AWSPREVIOUS'];
      else version.stages = version.stages.filter((s) => s !== 'AWSPREVIOUS');
    }
    const version: SecretVersion = {
      id: randomUUID(),
      value: typeof value === 'string' ? value : JSON.stringify(value),
      stages: ['AWSCURRENT'],
      createdAt: now,
    };
    secret.versions.push(version);
    secret.lastChangedAt = now;
    delete secret.deletedAt;
    return { arn: secret.arn, name: secret.name, versionId: version.id };
  }

  /** Schedules a secret for deletion: reading it fails as it does on AWS during the recovery window. */
  deleteSecret(region: string, nameOrArn: string): void {
    const secret = this.findSecret(this.region(region), nameOrArn);
    if (!secret) throw new NotFoundError(`No secret ${nameOrArn} in ${region}.`);
    secret.deletedAt = this.clock.now();
  }

  // ── Control API: faults and recorded calls ───────────────────────────────────────────────────

  /**
   * The next `times` calls of `action` (in any region) are answered with the service's throttling
   * error — RDS `Throttling`, Secrets Manager `ThrottlingException`, both HTTP 400 — which the
   * SDK's standard retry strategy retries with backoff.
   */
  throttleNext(action: FakeAwsAction, times = 1): void {
    const code = RDS_ACTIONS.has(action) ? 'Throttling' : 'ThrottlingException';
    this.inject(action, { status: 400, code, message: 'Rate exceeded', remaining: times });
  }

  /**
   * Answers calls of `action` with this error (e.g. `AccessDenied`, 403): every call until
   * {@link clearFailures}, or only the next `times` calls.
   */
  fail(action: FakeAwsAction, code: string, status = 400, options: { message?: string; times?: number } = {}): void {
    this.inject(action, {
      status,
      code,
      message: options.message ?? `${code} for ${action}`,
      remaining: options.times ?? Number.POSITIVE_INFINITY,
    });
  }

  /** Forgets injected failures and throttling, of one action or all. */
  clearFailures(action?: FakeAwsAction): void {
    if (action) this.faults.delete(action);
    else this.faults.clear();
  }

  /** The calls answered so far, oldest first; of one action if given. */
  calls(action?: FakeAwsAction): FakeAwsCall[] {
    return this.recorded.filter((call) => action === undefined || call.action === action).map((call) => structuredClone(call));
  }

  /** Forgets the recorded calls. */
  clearCalls(): void {
    this.recorded.length = 0;
  }

  // ── State lookups ────────────────────────────────────────────────────────────────────────────

  private region(name: string): RegionState {
    let state = this.regions.get(name);
    if (!state) {
      state = { instances: new Map(), clusters: new Map(), logFiles: new Map(), secrets: [] };
      this.regions.set(name, state);
    }
    return state;
  }

  private existingInstance(region: string, id: string): FakeDbInstance {
    const instance = this.region(region).instances.get(id.toLowerCase());
    if (!instance) throw new NotFoundError(`No DB instance ${id} in ${region}.`);
    return instance;
  }

  private existingCluster(region: string, id: string): FakeDbCluster {
    const cluster = this.region(region).clusters.get(id.toLowerCase());
    if (!cluster) throw new NotFoundError(`No DB cluster ${id} in ${region}.`);
    return cluster;
  }

  private logFilesOf(region: string, instanceId: string): Map<string, LogFile> {
    const state = this.region(region);
    let files = state.logFiles.get(instanceId);
    if (!files) {
      files = new Map();
      state.logFiles.set(instanceId, files);
    }
    return files;
  }

  private resourceByArn(arn: string): FakeDbInstance | FakeDbCluster | undefined {
    const region = arn.split(':')[3] ?? '';
    const state = this.regions.get(region);
    if (!state) return undefined;
    return [...state.instances.values(), ...state.clusters.values()].find((r) => r.arn === arn);
  }

  private newSecretIdentity(region: string, nameOrArn: string): { arn: string; name: string } {
    if (!nameOrArn.startsWith('arn:')) {
      return { name: nameOrArn, arn: `arn:aws:secretsmanager:${region}:${this.accountId}:secret:${nameOrArn}-${randomId(6)}` };
    }
    const match = /^arn:aws[\w-]*:secretsmanager:([^:]+):\d{12}:secret:(.+)$/.exec(nameOrArn);
    if (!match) throw new InputError(`${nameOrArn} is not a Secrets Manager secret ARN.`);
    if (match[1] !== region) throw new InputError(`The ARN ${nameOrArn} names region ${match[1]}, not ${region}.`);
    return { arn: nameOrArn, name: match[2]!.replace(/-[A-Za-z0-9]{6}$/, '') };
  }

  /** By full ARN, by name, or by the ARN without its random suffix, as Secrets Manager resolves a SecretId. */
  private findSecret(state: RegionState, secretId: string): Secret | undefined {
    return (
      state.secrets.find((s) => s.arn === secretId || s.name === secretId) ??
      state.secrets.find((s) => secretId.startsWith('arn:') && s.arn.length === secretId.length + 7 && s.arn.startsWith(`${secretId}-`))
    );
  }

  private inject(action: string, fault: InjectedFault): void {
    if (!RDS_ACTIONS.has(action) && !SECRETS_MANAGER_ACTIONS.has(action)) {
      throw new InputError(`The fake AWS does not serve ${action}.`);
    }
    if (!(fault.remaining >= 1)) throw new InputError('A fault must apply to at least one call.');
    const queue = this.faults.get(action) ?? [];
    queue.push(fault);
    this.faults.set(action, queue);
  }

  private takeFault(action: string): InjectedFault | undefined {
    const queue = this.faults.get(action);
    const fault = queue?.[0];
    if (!queue || !fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) queue.shift();
    return fault;
  }

  // ── HTTP ─────────────────────────────────────────────────────────────────────────────────────

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const requestId = randomUUID();
    const target = req.headers['x-amz-target'];
    const service: Service = typeof target === 'string' && target.startsWith('secretsmanager.') ? 'secretsmanager' : 'rds';
    const claimed = parseAuthorizationHeader(req.headers.authorization);
    let action = '';
    let params: Record<string, unknown> = {};
    let status = 200;
    let errorCode: string | undefined;
    let payload: string;
    try {
      if (service === 'secretsmanager') {
        action = String(target).slice('secretsmanager.'.length);
        params = this.parseJsonBody(body);
      } else {
        const form = parseQueryForm(body.toString('utf8'));
        action = stringParam(form, 'Action') ?? '';
        params = form;
      }
      const auth = this.authenticate(service, claimed, req, body);
      if (!(service === 'rds' ? RDS_ACTIONS : SECRETS_MANAGER_ACTIONS).has(action)) {
        throw service === 'rds'
          ? new AwsWireError(400, 'InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`)
          : new AwsWireError(400, 'UnknownOperationException', `Unknown operation ${action}.`);
      }
      const fault = this.takeFault(action);
      if (fault) throw new AwsWireError(fault.status, fault.code, fault.message);
      const state = this.region(auth.scope.region);
      payload =
        service === 'rds'
          ? queryResponse(action, this.rds(action, params as QueryStructure, state), requestId)
          : JSON.stringify(this.secretsManager(action, params, state));
    } catch (err) {
      const wire =
        err instanceof AwsWireError
          ? err
          : new AwsWireError(500, service === 'rds' ? 'InternalFailure' : 'InternalServiceError', String(err));
      status = wire.status;
      errorCode = wire.code;
      payload =
        service === 'rds'
          ? queryErrorResponse(wire.status, wire.code, wire.message, requestId)
          : JSON.stringify({ __type: wire.code, message: wire.message });
    }
    this.recorded.push({
      service,
      action,
      region: claimed?.scope.region ?? '',
      accessKeyId: claimed?.scope.accessKeyId ?? '',
      params,
      status,
      ...(errorCode ? { errorCode } : {}),
    });
    res.writeHead(status, {
      'content-type': service === 'rds' ? 'text/xml' : 'application/x-amz-json-1.1',
      'x-amzn-requestid': requestId,
      'content-length': Buffer.byteLength(payload),
    });
    res.end(payload);
  }

  private parseJsonBody(body: Buffer): Record<string, unknown> {
    try {
      const parsed: unknown = JSON.parse(body.length ? body.toString('utf8') : '{}');
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // answered below, as Secrets Manager answers a body it cannot read
    }
    throw new AwsWireError(400, 'SerializationException', 'The request body is not a JSON object.');
  }

  /**
   * Reads the SigV4 credential scope; with known credentials, refuses unknown keys and wrong
   * signatures with the codes each service uses for them.
   */
  private authenticate(service: Service, auth: AuthorizationHeader | undefined, req: IncomingMessage, body: Buffer): AuthorizationHeader {
    const rds = service === 'rds';
    if (!auth) {
      throw rds
        ? new AwsWireError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token')
        : new AwsWireError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const badSignature = (message: string) =>
      rds ? new AwsWireError(403, 'SignatureDoesNotMatch', message) : new AwsWireError(400, 'InvalidSignatureException', message);
    if (auth.scope.service !== SIGNING_NAME[service]) {
      throw badSignature(`Credential should be scoped to correct service: '${SIGNING_NAME[service]}'.`);
    }
    const known = this.options.credentials;
    if (!known) return auth;
    const secret = known[auth.scope.accessKeyId];
    if (secret === undefined) {
      const message = 'The security token included in the request is invalid.';
      throw rds ? new AwsWireError(403, 'InvalidClientTokenId', message) : new AwsWireError(400, 'UnrecognizedClientException', message);
    }
    const claimedHash = req.headers['x-amz-content-sha256'];
    const payloadHash = typeof claimedHash === 'string' ? claimedHash : sha256Hex(body);
    const url = new URL(req.url ?? '/', 'http://fake');
    const expected = computeSignature(
      { method: req.method ?? 'POST', path: url.pathname, query: [...url.searchParams], headers: req.headers, payloadHash },
      auth.signedHeaders,
      auth.scope,
      String(req.headers['x-amz-date'] ?? ''),
      secret,
    );
    if (payloadHash !== sha256Hex(body) || !signaturesMatch(expected, auth.signature)) {
      throw badSignature(
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      );
    }
    return auth;
  }

  // ── RDS ──────────────────────────────────────────────────────────────────────────────────────

  private rds(action: string, params: QueryStructure, state: RegionState): string[] {
    switch (action) {
      case 'DescribeDBInstances':
        return this.describeDBInstances(params, state);
      case 'DescribeDBClusters':
        return this.describeDBClusters(params, state);
      case 'ListTagsForResource':
        return this.listTagsForResource(params, state);
      case 'DescribeDBLogFiles':
        return this.describeDBLogFiles(params, state);
      default:
        return this.downloadDBLogFilePortion(params, state);
    }
  }

  /**
   * One page of `items` (sorted by key) after the request's `Marker`, with the marker of the next
   * page when there is one. Markers name the last key served, so a page boundary survives
   * resources being added or removed between pages.
   */
  private page<T>(
    action: string,
    items: T[],
    key: (item: T) => string,
    params: QueryStructure,
    maxRecordsRange: [number, number],
  ): { page: T[]; marker?: string } {
    const maxRecords = integerParam(params, 'MaxRecords');
    const [min, max] = maxRecordsRange;
    if (maxRecords !== undefined && (maxRecords < min || maxRecords > max)) {
      throw invalidParameter(`Invalid value ${maxRecords} for MaxRecords. Must be between ${min} and ${max}`);
    }
    const size = Math.min(maxRecords ?? MAX_MAX_RECORDS, this.options.pageSize ?? MAX_MAX_RECORDS);
    const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    const marker = stringParam(params, 'Marker');
    let start = 0;
    if (marker) {
      let after: unknown;
      try {
        after = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8'));
      } catch {
        after = undefined;
      }
      const last = after as { action?: unknown; after?: unknown } | undefined;
      if (!last || last.action !== action || typeof last.after !== 'string') {
        throw invalidParameter(`The marker ${marker} is not one this action returned.`);
      }
      const lastKey = last.after;
      start = sorted.findIndex((item) => key(item) > lastKey);
      if (start === -1) start = sorted.length;
    }
    const page = sorted.slice(start, start + size);
    if (start + size >= sorted.length || page.length === 0) return { page };
    const next = Buffer.from(JSON.stringify({ action, after: key(page[page.length - 1]!) })).toString('base64url');
    return { page, marker: next };
  }

  /**
   * DescribeDBInstances and DescribeDBClusters alike: the one resource named by identifier or
   * ARN (or the not-found error), else all of them; then each filter (values of one filter are
   * alternatives, filters all apply); then one page.
   */
  private describeResources<T extends FakeDbInstance | FakeDbCluster>(
    action: string,
    params: QueryStructure,
    resources: T[],
    lookup: { param: string; notFound: (id: string) => AwsWireError },
    filters: Record<string, (resource: T, values: string[]) => boolean>,
  ): { page: T[]; marker?: string } {
    let selected = resources;
    const wanted = stringParam(params, lookup.param);
    if (wanted) {
      const found = resources.find((r) => isIdOrArn(r, wanted));
      if (!found) throw lookup.notFound(wanted);
      selected = [found];
    }
    for (const filter of filtersParam(params)) {
      const match = filters[filter.name];
      if (!match) throw invalidParameter(`Unrecognized filter name: ${filter.name}`);
      selected = selected.filter((r) => match(r, filter.values));
    }
    return this.page(action, selected, (r) => r.id, params, [MIN_MAX_RECORDS, MAX_MAX_RECORDS]);
  }

  private describeDBInstances(params: QueryStructure, state: RegionState): string[] {
    const clusterOf = (i: FakeDbInstance) => (i.clusterId ? state.clusters.get(i.clusterId) : undefined);
    const { page, marker } = this.describeResources(
      'DescribeDBInstances',
      params,
      [...state.instances.values()],
      { param: 'DBInstanceIdentifier', notFound: instanceNotFound },
      {
        'db-instance-id': (i, values) => values.some((v) => isIdOrArn(i, v)),
        'db-cluster-id': (i, values) => values.some((v) => v.toLowerCase() === i.clusterId || v === clusterOf(i)?.arn),
        'dbi-resource-id': (i, values) => values.includes(i.resourceId),
        engine: (i, values) => values.includes(i.engine),
      },
    );
    return [xmlList('DBInstances', page, dbInstanceXml), xmlElement('Marker', marker)];
  }

  private describeDBClusters(params: QueryStructure, state: RegionState): string[] {
    const { page, marker } = this.describeResources(
      'DescribeDBClusters',
      params,
      [...state.clusters.values()],
      { param: 'DBClusterIdentifier', notFound: clusterNotFound },
      {
        'db-cluster-id': (c, values) => values.some((v) => isIdOrArn(c, v)),
        'db-cluster-resource-id': (c, values) => values.includes(c.resourceId),
        engine: (c, values) => values.includes(c.engine),
      },
    );
    return [xmlList('DBClusters', page, (c) => dbClusterXml(c, this.clusterMembers(c, state))), xmlElement('Marker', marker)];
  }

  /** Members in the order they were added; the flagged writer, else the first, writes. */
  private clusterMembers(cluster: FakeDbCluster, state: RegionState): ClusterMember[] {
    const members = [...state.instances.values()].filter((i) => i.clusterId === cluster.id);
    const writer = members.find((i) => i.clusterWriter) ?? members.find((i) => i.clusterWriter !== false);
    return members.map((i) => ({ id: i.id, writer: i === writer }));
  }

  private listTagsForResource(params: QueryStructure, state: RegionState): string[] {
    const arn = requiredParam(params, 'ResourceName');
    const match = /^arn:aws[\w-]*:rds:[^:]+:\d{12}:(db|cluster):(.+)$/.exec(arn);
    if (!match) throw invalidParameter(`The specified resource name ${arn} is not a valid RDS resource ARN.`);
    const [, kind, id] = match as unknown as [string, 'db' | 'cluster', string];
    const resource = kind === 'db' ? state.instances.get(id) : state.clusters.get(id);
    if (!resource || resource.arn !== arn) throw kind === 'db' ? instanceNotFound(id) : clusterNotFound(id);
    return [tagListXml(resource.tags)];
  }

  private describeDBLogFiles(params: QueryStructure, state: RegionState): string[] {
    const instance = this.instanceParam(params, state);
    const contains = stringParam(params, 'FilenameContains');
    const writtenSince = integerParam(params, 'FileLastWritten');
    const largerThan = integerParam(params, 'FileSize');
    const files = [...(state.logFiles.get(instance.id)?.values() ?? [])].filter(
      (f) =>
        (contains === undefined || f.name.includes(contains)) &&
        (writtenSince === undefined || f.lastWritten.getTime() >= writtenSince) &&
        (largerThan === undefined || f.data.length > largerThan),
    );
    const { page, marker } = this.page('DescribeDBLogFiles', files, (f) => f.name, params, [1, Number.MAX_SAFE_INTEGER]);
    return [
      xmlList('DescribeDBLogFiles', page, (f) =>
        xmlElement('DescribeDBLogFilesDetails', [
          xmlElement('LogFileName', f.name),
          xmlElement('LastWritten', f.lastWritten.getTime()),
          xmlElement('Size', f.data.length),
        ]),
      ),
      xmlElement('Marker', marker),
    ];
  }

  private instanceParam(params: QueryStructure, state: RegionState): FakeDbInstance {
    const id = requiredParam(params, 'DBInstanceIdentifier');
    const instance = [...state.instances.values()].find((i) => isIdOrArn(i, id));
    if (!instance) throw instanceNotFound(id);
    return instance;
  }

  /**
   * As RDS documents it: without a Marker, the last lines of the file (NumberOfLines of them, or
   * up to 10,000); with Marker `0`, lines from the start; with a returned Marker, the lines after
   * it. A portion never exceeds the line limit or 1 MB; `AdditionalDataPending` says whether the
   * file goes on after it.
   */
  private downloadDBLogFilePortion(params: QueryStructure, state: RegionState): string[] {
    const instance = this.instanceParam(params, state);
    const name = requiredParam(params, 'LogFileName');
    const file = state.logFiles.get(instance.id)?.get(name);
    if (!file) {
      throw new AwsWireError(404, 'DBLogFileNotFoundFault', `DBLog File: ${name}, is not found on the DB instance`);
    }
    const requested = integerParam(params, 'NumberOfLines');
    if (requested !== undefined && requested < 1) throw invalidParameter(`Invalid value ${requested} for NumberOfLines.`);
    const lineLimit = Math.min(
      requested ?? MAX_LOG_PORTION_LINES,
      this.options.logPortionLines ?? MAX_LOG_PORTION_LINES,
      MAX_LOG_PORTION_LINES,
    );
    const marker = stringParam(params, 'Marker');
    const data = file.data;
    let start: number;
    let end: number;
    if (marker === undefined) {
      const ends = lineEnds(data, 0);
      const first = Math.max(0, ends.length - lineLimit);
      start = first === 0 ? 0 : ends[first - 1]!;
      end = data.length;
      while (end - start > MAX_LOG_PORTION_BYTES && start < end) start = data.indexOf(0x0a, start) + 1 || end;
    } else {
      const offset = marker === '0' ? 0 : /^0:(\d+)$/.exec(marker)?.[1];
      if (offset === undefined || Number(offset) > data.length) {
        throw invalidParameter(`The marker ${marker} does not point into ${name}.`);
      }
      start = Number(offset);
      const ends = lineEnds(data, start).slice(0, lineLimit);
      const withinLimit = ends.filter((e) => e - start <= MAX_LOG_PORTION_BYTES);
      end = withinLimit[withinLimit.length - 1] ?? ends[0] ?? start;
    }
    return [
      xmlElement('LogFileData', data.subarray(start, end).toString('utf8')),
      xmlElement('Marker', logMarker(end)),
      xmlElement('AdditionalDataPending', end < data.length),
    ];
  }

  // ── Secrets Manager ──────────────────────────────────────────────────────────────────────────

  private secretsManager(action: string, params: Record<string, unknown>, state: RegionState): Record<string, unknown> {
    const secretId = params.SecretId;
    if (typeof secretId !== 'string' || secretId === '') {
      throw new AwsWireError(400, 'InvalidParameterException', 'You must provide a SecretId.');
    }
    const secret = this.findSecret(state, secretId);
    if (!secret) throw secretNotFound();
    const seconds = (date: Date) => date.getTime() / 1000;
    if (action === 'DescribeSecret') {
      return {
        ARN: secret.arn,
        Name: secret.name,
        CreatedDate: seconds(secret.createdAt),
        LastChangedDate: seconds(secret.lastChangedAt),
        ...(secret.deletedAt ? { DeletedDate: seconds(secret.deletedAt) } : {}),
        VersionIdsToStages: Object.fromEntries(secret.versions.filter((v) => v.stages.length).map((v) => [v.id, [...v.stages]])),
      };
    }
    if (secret.deletedAt) {
      throw new AwsWireError(
        400,
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    const versionId = typeof params.VersionId === 'string' ? params.VersionId : undefined;
    const stage = typeof params.VersionStage === 'string' ? params.VersionStage : versionId ? undefined : 'AWSCURRENT';
    const version = secret.versions.find((v) => (!versionId || v.id === versionId) && (!stage || v.stages.includes(stage)));
    if (!version) {
      throw secretNotFound(versionId ? ` value for VersionId: ${versionId}` : ` value for staging label: ${stage}`);
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      SecretString: version.value,
      VersionStages: [...version.stages],
      CreatedDate: seconds(version.createdAt),
    };
  }
}
