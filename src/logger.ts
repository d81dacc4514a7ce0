import { pino, type Logger } from 'pino';

/**
 * Known secret values (connector passwords, tokens, secrets read from Secrets Manager, minted
 * passwords while they are in flight). Anything logged or shown passes through {@link redact}
 * first, so a secret that ends up inside a driver's error message is still replaced.
 */
const secretValues = new Set<string>();

/** Registers a secret value to be replaced wherever it would be logged or shown. */
export function registerSecret(value: string | undefined): void {
  // Very short values would redact ordinary words; real secrets are long.
  if (value && value.length >= 6) secretValues.add(value);
}

/** Forgets a secret value once nothing can print it any more (a minted password delivered). */
export function forgetSecret(value: string | undefined): void {
  if (value) secretValues.delete(value);
}

const URI_PASSWORD_RE = /(postgres(?:ql)?:\/\/[^:/\s@]+:)([^@\s]+)(@)/gi;
const KEYWORD_RE = /\b(password|passwd|pwd|token|secret|X-Amz-Signature|X-Amz-Security-Token)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;]+)/gi;
const SLACK_TOKEN_RE = /\bxox[abposr]-[A-Za-z0-9-]+/g;

/** Replaces every known secret value and anything shaped like a credential in `text`. */
export function redact(text: string): string {
  let out = text;
  for (const s of secretValues) out = out.split(s).join('[REDACTED]');
  return out
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
