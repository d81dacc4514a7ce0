import type { AuditSettings, AuditSinkConfig } from '../../config/auditSink.ts';
import type { SesameMetrics } from '../../http/metrics.ts';
import { auditSinkJob } from '../../jobs/jobs.ts';
import type { Job } from '../../jobs/Scheduler.ts';
import type { Logger } from '../../logger.ts';
import type { Clock } from '../../ports/Clock.ts';
import { type AuditSink, AuditStream, type SinkStore } from '../../services/audit/AuditStream.ts';
import { FileSink } from './FileSink.ts';
import { WebhookSink } from './WebhookSink.ts';

/** The sink the config names: its file, or its webhook with its secret. */
export function openAuditSink(config: AuditSinkConfig): AuditSink {
  if (config.webhook !== undefined) return new WebhookSink({ url: config.webhook, secret: config.secret ?? '' });
  if (config.file !== undefined) return new FileSink(config.file);
  throw new Error('audit.sink names neither a file nor a webhook.');
}

/**
 * The audit sink's job when the config has `audit.sink` (none otherwise): the stream over the
 * state store, its failures counted by the metrics.
 */
export function auditSinkJobs(
  settings: AuditSettings,
  deps: { store: SinkStore; clock: Clock; logger: Logger; metrics?: Pick<SesameMetrics, 'observeAuditSinkFailure'> },
): Job[] {
  const { sink } = settings;
  if (!sink) return [];
  const { store, clock, logger, metrics } = deps;
  const onFailure = () => metrics?.observeAuditSinkFailure();
  return [auditSinkJob(new AuditStream({ store, sink: openAuditSink(sink), clock, logger, batchSize: sink.batchSize, onFailure }))];
}
