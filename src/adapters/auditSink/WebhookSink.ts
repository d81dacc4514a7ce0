import { createHmac } from 'node:crypto';
import type { AuditSink, SinkBatch } from '../../services/audit/AuditStream.ts';

/** Headers of each request. */
export const SIGNATURE_HEADER = 'X-Sesame-Signature';
export const TIMESTAMP_HEADER = 'X-Sesame-Timestamp';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** A request the receiver has not answered after this long failed (and is tried again). */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * The signature of a request: `sha256=` and the hex HMAC-SHA256, keyed with the secret, of
 * `<timestamp>.<raw body>`. A receiver computes the same over the body it received and the
 * X-Sesame-Timestamp header, compares in constant time, and refuses a timestamp far from its clock
 * (a replay).
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What the receiver is sent as the idempotency key: the stream and the ids (or seqs) of the batch's ends. */
export function idempotencyKey(batch: Pick<SinkBatch, 'stream' | 'first' | 'last'>): string {
  return `${batch.stream}-${batch.first}-${batch.last}`;
}

export interface WebhookSinkOptions {
  url: string;
  secret: string;
  /** Unix seconds now; the system clock by default. */
  nowSeconds?: () => number;
  timeoutMs?: number;
}

/**
 * POSTs each batch as `{ "items": [...] }`, signed. Any 2xx answer means the receiver took the
 * batch; any other answer, a network error or no answer within the timeout is a failure that the
 * stream tries again. Nothing it throws or logs holds the secret or the URL's path.
 */
export class WebhookSink implements AuditSink {
  readonly describe: string;
  readonly #url: string;
  readonly #secret: string;
  readonly #nowSeconds: () => number;
  readonly #timeoutMs: number;

  constructor(options: WebhookSinkOptions) {
    this.#url = options.url;
    this.#secret = options.secret;
    this.#nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    this.#timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
    this.describe = `webhook ${new URL(options.url).origin}`;
  }

  async deliver(batch: SinkBatch): Promise<void> {
    const body = JSON.stringify({ items: batch.items });
    const timestamp = String(this.#nowSeconds());
    let response: Response;
    try {
      response = await fetch(this.#url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: webhookSignature(this.#secret, timestamp, body),
          [IDEMPOTENCY_HEADER]: idempotencyKey(batch),
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new Error(`${this.describe} could not be reached: ${reason(err)}`);
    }
    // The body is not needed; reading it frees the connection for the next request.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status > 299) {
      throw new Error(`${this.describe} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    }
  }
}

/** Why fetch failed, in a few words: its cause's code (ECONNREFUSED), or a timeout. */
function reason(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'no answer in time';
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return err instanceof Error ? err.message : String(err);
}
