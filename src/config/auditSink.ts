import { z } from 'zod';
import { wholeNumber } from './fields.ts';

/** Hosts an `http://` webhook may name: this machine only (a receiver beside Sesame, or a test's). */
const LOOPBACK_HOST_RE = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Why a webhook URL is refused, or undefined when it is fine. The message never repeats the URL. */
export function webhookUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be a URL like https://audit.example.com/sesame';
  }
  if (url.username || url.password) return 'must not hold a user name or password: the secret signs every request instead';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return LOOPBACK_HOST_RE.test(url.hostname)
      ? undefined
      : 'must be an https:// URL: http:// is allowed only for a loopback host (localhost, 127.0.0.1, [::1]), for tests';
  }
  return `must be an https:// URL, not ${url.protocol.replace(/:$/, '')}`;
}

/** A secret shorter than this is too easy to guess for signing. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

/** Where the audit trail and the session records are streamed to: a JSON-lines file, or a webhook. */
export const auditSinkSchema = z
  .object({
    file: z
      .string()
      .min(1, 'must not be empty')
      .optional()
      .describe('Append every audit event and session record as a JSON line to this file (created readable by Sesame only)'),
    webhook: z
      .string()
      .refine((url) => webhookUrlProblem(url) === undefined, {
        error: (issue) => (typeof issue.input === 'string' ? webhookUrlProblem(issue.input) : undefined),
      })
      .optional()
      .describe('POST every batch as JSON to this https:// URL, signed with secret (http:// only to a loopback host)'),
    secret: z
      .string()
      .min(MIN_WEBHOOK_SECRET_LENGTH, `must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`)
      .optional()
      .describe('The key of the HMAC-SHA256 signature of each webhook request; write ${NAME} to take it from the environment'),
    batchSize: wholeNumber()
      .min(1, 'must be a whole number from 1 to 10000')
      .max(10_000, 'must be a whole number from 1 to 10000')
      .default(100)
      .describe('Items per batch (one file write or one webhook request), at most (default 100)'),
  })
  .strict()
  .superRefine(
    (sink, ctx) => {
      // Runs even when a key failed (every problem at once), so it trusts nothing of the shape.
      if (typeof sink !== 'object' || sink === null || Array.isArray(sink)) return;
      const has = (key: 'file' | 'webhook' | 'secret') => (sink as Record<string, unknown>)[key] !== undefined;
      if (has('file') && has('webhook')) {
        ctx.addIssue({ code: 'custom', path: ['webhook'], message: 'and file are both set: give one sink, file or webhook' });
      } else if (!has('file') && !has('webhook')) {
        ctx.addIssue({ code: 'custom', path: [], message: 'needs file: <path> or webhook: <https URL>' });
      }
      if (has('webhook') && !has('secret')) {
        ctx.addIssue({
          code: 'custom',
          path: ['secret'],
          message: 'is required with webhook: the receiver checks the signature made with it',
        });
      }
      if (has('file') && !has('webhook') && has('secret')) {
        ctx.addIssue({ code: 'custom', path: ['secret'], message: 'is only for webhook; a file is not signed' });
      }
    },
    { when: () => true },
  );

/** The top-level `audit` key. Each integration's own `audit: true` (session logs) is another thing. */
export const auditSettingsSchema = z
  .object({
    sink: auditSinkSchema
      .optional()
      .describe('Stream every audit event and session record, in order and at least once, to a file or a webhook'),
  })
  .strict()
  .prefault({})
  .describe('Streaming the audit trail out of Sesame');

export type AuditSinkConfig = z.output<typeof auditSinkSchema>;
export type AuditSettings = z.output<typeof auditSettingsSchema>;
