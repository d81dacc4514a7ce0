import { pino, type Logger } from 'pino';

/** Very short values would redact ordinary words; real secrets are long. */
const MIN_SECRET_LENGTH = 6;
/**
 * How many expiring secrets are kept at most. With IAM, each new connection signs a token that
 * is good for 15 minutes; a pool that opens a connection every few seconds stays far below this.
 */
export const MAX_EXPIRING_SECRETS = 1000;

export interface SecretRegistryOptions {
  /** Milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
  maxExpiring?: number;
}

/**
 * Known secret values, replaced wherever they would be logged or shown. Two kinds, kept apart:
 * - permanent ones (the Slack tokens, connector passwords, secrets read from Secrets Manager, a
 *   minted password while it is in flight) stay until they are forgotten by name;
 * - expiring ones (IAM tokens) are forgotten when their lifetime ends, and at most `maxExpiring`
 *   are kept, the oldest dropped first, so a flood of them never pushes a permanent one out.
 * Redacting costs one substring search per secret held, so it is bounded by the permanent
 * secrets (a handful) plus `maxExpiring`, however many were ever registered.
 */
export class SecretRegistry {
  readonly #permanent = new Set<string>();
  /** Value → the moment it is forgotten, in the order they were registered. */
  readonly #expiring = new Map<string, number>();
  readonly #now: () => number;
  readonly #maxExpiring: number;

  constructor(options: SecretRegistryOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxExpiring = options.maxExpiring ?? MAX_EXPIRING_SECRETS;
  }

  /** Registers `value`; with `lifetimeMs`, only for that long. A permanent secret stays permanent. */
  add(value: string | undefined, lifetimeMs?: number): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    if (lifetimeMs === undefined) {
      this.#expiring.delete(value);
      this.#permanent.add(value);
      return;
    }
    if (this.#permanent.has(value)) return;
    const now = this.#now();
    // Deleted first so that a value registered again moves to the end of the order.
    this.#expiring.delete(value);
    this.#expiring.set(value, now + lifetimeMs);
    this.#dropExpired(now);
    for (const oldest of this.#expiring.keys()) {
      if (this.#expiring.size <= this.#maxExpiring) break;
      this.#expiring.delete(oldest);
    }
  }

  forget(value: string | undefined): void {
    if (!value) return;
    this.#permanent.delete(value);
    this.#expiring.delete(value);
  }

  /** How many secrets of each kind are held now. */
  counts(): { permanent: number; expiring: number } {
    const now = this.#now();
    for (const [s, until] of this.#expiring) if (until <= now) this.#expiring.delete(s);
    return { permanent: this.#permanent.size, expiring: this.#expiring.size };
  }

  /** `text` with every secret held replaced by `[REDACTED]`. */
  replaceIn(text: string): string {
    let out = text;
    for (const s of this.#permanent) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    const now = this.#now();
    for (const [s, until] of this.#expiring) {
      if (until <= now) this.#expiring.delete(s);
      else if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    }
    return out;
  }

  /** Drops expired secrets from the front; lifetimes are mostly equal, so that is where they are. */
  #dropExpired(now: number): void {
    for (const [s, until] of this.#expiring) {
      if (until > now) break;
      this.#expiring.delete(s);
    }
  }
}

const secrets = new SecretRegistry();

/**
 * Registers a secret value to be replaced wherever it would be logged or shown; one that stops
 * working after a while (an IAM token) with its `lifetimeMs`, after which it is forgotten.
 */
export function registerSecret(value: string | undefined, options: { lifetimeMs?: number } = {}): void {
  secrets.add(value, options.lifetimeMs);
}

/** Forgets a secret value once nothing can print it any more (a minted password delivered). */
export function forgetSecret(value: string | undefined): void {
  secrets.forget(value);
}

/** How many secrets the redactor holds now, of each kind. */
export function registeredSecretCounts(): { permanent: number; expiring: number } {
  return secrets.counts();
}

const URI_PASSWORD_RE = /(postgres(?:ql)?:\/\/[^:/\s@]+:)([^@\s]+)(@)/gi;
const KEYWORD_RE = /\b(password|passwd|pwd|token|secret|X-Amz-Signature|X-Amz-Security-Token)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;]+)/gi;
const SLACK_TOKEN_RE = /\bxox[abposr]-[A-Za-z0-9-]+/g;

/** Replaces every known secret value and anything shaped like a credential in `text`. */
export function redact(text: string): string {
  return secrets
    .replaceIn(text)
    .replace(URI_PASSWORD_RE, '$1[REDACTED]$3')
    .replace(KEYWORD_RE, '$1$2[REDACTED]')
    .replace(SLACK_TOKEN_RE, '[REDACTED]');
}

/** A one-line, secret-free description of an error for logs, the state store and people. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const base = typeof code === 'string' && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
    return redact(base);
  }
  if (typeof err === 'object' && err !== null) {
    // Never "[object Object]": the object's own message, error code or type, whichever it has.
    const { message, error, type } = err as { message?: unknown; error?: unknown; type?: unknown };
    const said = [message, error, type].find((v) => typeof v === 'string' && v !== '');
    return redact(typeof said === 'string' ? said : `${err.constructor?.name ?? 'an object'} without a message`);
  }
  return redact(String(err));
}

/** Paths pino removes whatever their value, for objects that carry credentials by name. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'botToken',
  'appToken',
  'signingSecret',
  '*.signingSecret',
  'headers.authorization',
  '*.headers.authorization',
];

/** JSON lines on stdout, with secrets removed by path and by value. */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { app: 'sesame' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: (err: unknown) => ({ message: describeError(err), type: (err as Error)?.name }) },
      hooks: {
        // Every string argument is passed through the value redactor as well.
        logMethod(args, method) {
          const cleaned = args.map((a) => (typeof a === 'string' ? redact(a) : a));
          return method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
}

export type { Logger };
