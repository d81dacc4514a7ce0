import type { AccessRequest } from '../domain/request.ts';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SESAME_JOB_IDS } from '../jobs/jobs.ts';
import type { JobRunObserver } from '../jobs/Scheduler.ts';
import type { AuditAction, AuditEvent, AuditLog, AuditOf } from '../ports/AuditLog.ts';
import type { Leadership } from '../ports/Coordination.ts';

/** Every outcome sesame_requests_total counts, in the order of a request's life. */
export const REQUEST_OUTCOMES = [
  'created',
  'approved',
  'denied',
  'cancelled',
  'timedout',
  'granted',
  'failed',
  'extended',
  'expired',
  'revoked',
] as const;

/** How an audit event counts as a request outcome; actions not listed are not outcomes. */
const OUTCOMES: Partial<Record<AuditAction, (typeof REQUEST_OUTCOMES)[number]>> = {
  'request.created': 'created',
  'request.denied': 'denied',
  'request.cancelled': 'cancelled',
  'request.timedout': 'timedout',
  'grant.granted': 'granted',
  'grant.failed': 'failed',
  'grant.extended': 'extended',
  'grant.expired': 'expired',
  'grant.revoked': 'revoked',
};

/** How a job run ends, as the job histogram labels it (a skipped run is not observed). */
const JOB_OUTCOMES = ['ok', 'error'] as const;

/** Sesame's Prometheus metrics, served at GET /metrics. */
export interface SesameMetrics {
  readonly registry: Registry;
  /** Counts request outcomes and revocation failures from the audit trail as it is written. */
  observeAudit(event: AuditEvent): void;
  /** The scheduler's observer: how long each job (the expiry sweep and the others) took. */
  observeJob: JobRunObserver;
  /** Counts a batch the audit sink did not take. */
  observeAuditSinkFailure(): void;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** What the metrics read at each scrape. */
export interface MetricsSources {
  activeGrants: () => Promise<number>;
  /** Which jobs this replica leads, and which live replicas run another config. */
  leadership?: Pick<Leadership, 'leading' | 'configMismatches'>;
  /** Items of each stream the audit sink has not delivered yet (with `audit.sink`). */
  auditSinkBacklog?: () => Promise<{ audit: number; sessions: number }>;
}

/**
 * Builds the metrics on a registry of their own (tests build several side by side): requests by
 * outcome, active grants (read from the store at each scrape, so it is right after a restart),
 * revocation failures, job duration, the audit sink's backlog, and the process's default metrics.
 */
export function createMetrics(options: MetricsSources): SesameMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sesame_' });
  const requests = new Counter({
    name: 'sesame_requests_total',
    help: `Access requests by outcome: ${REQUEST_OUTCOMES.join(', ')}.`,
    labelNames: ['outcome'],
    registers: [registry],
  });
  const revocationFailures = new Counter({
    name: 'sesame_revocation_failures_total',
    help: 'Revocation attempts that failed (each is retried with backoff).',
    registers: [registry],
  });
  new Gauge({
    name: 'sesame_active_grants',
    help: 'Grants in effect now.',
    registers: [registry],
    async collect() {
      this.set(await options.activeGrants());
    },
  });
  const jobDuration = new Histogram({
    name: 'sesame_job_duration_seconds',
    help: 'Duration of scheduled jobs (expire is the expiry and reconciliation sweep).',
    labelNames: ['job', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const { leadership } = options;
  new Gauge({
    name: 'sesame_job_leader',
    help: 'Whether this replica leads the job (1) or another one does (0); with several replicas, each job has one leader.',
    labelNames: ['job'],
    registers: [registry],
    collect() {
      const led = new Set(leadership?.leading() ?? []);
      for (const job of SESAME_JOB_IDS) this.set({ job }, led.has(job) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'sesame_replicas_with_other_config',
    help: 'Live replicas sharing this state whose config differs from this one (should be 0).',
    registers: [registry],
    collect() {
      this.set(leadership?.configMismatches().length ?? 0);
    },
  });
  const auditSinkFailed = auditSinkMetrics(registry, options.auditSinkBacklog);
  // Every series a dashboard or an alert may ask for exists at zero from the start, not only
  // after its first event.
  for (const outcome of REQUEST_OUTCOMES) requests.inc({ outcome }, 0);
  revocationFailures.inc(0);
  for (const job of SESAME_JOB_IDS) for (const outcome of JOB_OUTCOMES) jobDuration.zero({ job, outcome });
  return {
    registry,
    observeAudit(event) {
      // A request counts as approved once its approvals are complete, not at each partial one.
      if (event.action === 'request.approved') {
        if (event.details?.complete !== false) requests.inc({ outcome: 'approved' });
        return;
      }
      if (event.action === 'grant.revoke_failed') revocationFailures.inc();
      const outcome = OUTCOMES[event.action];
      if (outcome) requests.inc({ outcome });
    },
    observeAuditSinkFailure: auditSinkFailed,
    observeJob(jobId, outcome, durationMs) {
      if (outcome === 'skipped') return;
      jobDuration.observe({ job: jobId, outcome }, durationMs / 1000);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/**
 * The audit sink's backlog per stream (0 without a sink) and its failed deliveries; the backlog is
 * read from the state store at each scrape, so every replica shows it, not only the one streaming.
 */
function auditSinkMetrics(registry: Registry, backlog: MetricsSources['auditSinkBacklog']): () => void {
  new Gauge({
    name: 'sesame_audit_sink_backlog',
    help: 'Audit events (stream="audit") and session records (stream="sessions") not delivered to audit.sink yet, counted up to 10000.',
    labelNames: ['stream'],
    registers: [registry],
    async collect() {
      const counts = backlog ? await backlog() : { audit: 0, sessions: 0 };
      this.set({ stream: 'audit' }, counts.audit);
      this.set({ stream: 'sessions' }, counts.sessions);
    },
  });
  const failures = new Counter({
    name: 'sesame_audit_sink_failures_total',
    help: 'Batches audit.sink did not take (each is tried again with backoff).',
    registers: [registry],
  });
  failures.inc(0);
  return () => failures.inc();
}

/**
 * The store with every audit event it writes also shown to `observe`, once the write has
 * succeeded: events appended on their own and events written with a state change (the `audit`
 * argument of createRequest, transition and update), so metrics follow the audit trail without
 * the services knowing about them.
 */
export function observeAuditTrail<S extends AuditLog>(store: S, observe: (event: AuditEvent) => void): S {
  // Where each state-changing method takes its audit argument (see the RequestStore port).
  const auditArgument = new Map<PropertyKey, number>([
    ['createRequest', 2],
    ['transition', 4],
    ['update', 3],
  ]);
  return new Proxy(store, {
    get(target, property) {
      if (property === 'appendAudit') {
        return async (event: AuditEvent) => {
          await target.appendAudit(event);
          observe(event);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const at = auditArgument.get(property);
      if (at === undefined) return value.bind(target);
      return async (...args: unknown[]) => {
        const written: AuditEvent[] = [];
        const audit = args[at];
        if (typeof audit === 'function') {
          args[at] = (request: AccessRequest) => {
            const events = [(audit as AuditOf)(request)].flat();
            written.push(...events);
            return events;
          };
        }
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        for (const event of written) observe(event);
        return result;
      };
    },
  });
}
