import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { InputError, NotFoundError } from '../../domain/errors.ts';
import { registerSecret } from '../../logger.ts';
import { systemClock, type Clock } from '../../ports/Clock.ts';
import type { ConnectorSecret, SecretSource } from '../../ports/SecretSource.ts';
import type { AwsClients } from './AwsClients.ts';
import { awsErrorCode, awsFailure, parseArn } from './awsErrors.ts';

/**
 * The JSON a connector secret holds. RDS-managed secrets add `engine`, `host`, `port`, `dbname`
 * and the like; those are allowed and ignored, because RDS itself is the truth about where the
 * server is.
 */
const secretJson = z.object({
  username: z.string().min(1).optional(),
  password: z.string().min(1),
});

export interface SecretsManagerSecretSourceOptions {
  clients: AwsClients;
  clock?: Clock;
  /**
   * How long a value read is reused. Default one hour: a rotated secret is also picked up at
   * once when a login fails, because the engine then reads it with `fresh`.
   */
  ttlMs?: number;
  /** The region of a secret named without an ARN. */
  defaultRegion?: string;
}

interface CacheEntry {
  at: number;
  secret: Promise<ConnectorSecret>;
}

/**
 * Connector credentials from AWS Secrets Manager: the AWSCURRENT version of a secret holding
 * JSON with `username` and `password`, read in the secret's own region (from its ARN). Values
 * are cached, registered with the log redactor, and never appear in an error message.
 */
export class SecretsManagerSecretSource implements SecretSource {
  readonly #options: SecretsManagerSecretSourceOptions;
  readonly #clock: Clock;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(options: SecretsManagerSecretSourceOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  read(ref: string, options: { fresh?: boolean } = {}): Promise<ConnectorSecret> {
    const now = this.#clock.now().getTime();
    const cached = this.#cache.get(ref);
    if (cached && !options.fresh && now - cached.at < (this.#options.ttlMs ?? 60 * 60_000)) return cached.secret;
    const entry = { at: now, secret: this.#fetch(ref) };
    this.#cache.set(ref, entry);
    entry.secret.catch(() => {
      if (this.#cache.get(ref) === entry) this.#cache.delete(ref);
    });
    return entry.secret;
  }

  async #fetch(ref: string): Promise<ConnectorSecret> {
    const region = parseArn(ref)?.region || this.#options.defaultRegion;
    if (!region) {
      throw new InputError(`The secret ${ref} is not named by its ARN, so Sesame does not know its region. Give the secret's full ARN.`);
    }
    let text: string | undefined;
    try {
      const out = await this.#options.clients.secretsManager(region).send(new GetSecretValueCommand({ SecretId: ref }));
      text = out.SecretString;
    } catch (err) {
      throw secretFailure(err, ref, region);
    }
    if (text === undefined) {
      throw new InputError(
        `The secret ${ref} holds binary data. Sesame reads a text secret with JSON like {"username": "…", "password": "…"}, as RDS-managed secrets are.`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The parser's own message quotes the text, which may be the password itself.
      parsed = undefined;
    }
    const result = secretJson.safeParse(parsed);
    if (!result.success) {
      if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { password?: unknown }).password === 'string') {
        registerSecret((parsed as { password: string }).password);
      }
      throw new InputError(
        `The secret ${ref} is not JSON with a password (and a username): store it as {"username": "…", "password": "…"}, as RDS-managed secrets are.`,
      );
    }
    registerSecret(result.data.password);
    return result.data.username === undefined
      ? { password: result.data.password }
      : { username: result.data.username, password: result.data.password };
  }
}

function secretFailure(err: unknown, ref: string, region: string): Error {
  const code = awsErrorCode(err);
  if (code === 'ResourceNotFoundException') {
    return new NotFoundError(
      `Secrets Manager has no secret ${ref} in ${region} (or no current version of it). Check the secret ARN in the config or in the instance's tag.`,
      { cause: err },
    );
  }
  if (code === 'InvalidRequestException') {
    return new NotFoundError(
      `Secrets Manager will not give the secret ${ref}: it is scheduled for deletion. Restore it, or point Sesame at another secret.`,
      { cause: err },
    );
  }
  if (code === 'DecryptionFailure') {
    return awsFailure(err, { doing: `decrypt the secret ${ref}`, action: "kms:Decrypt on the secret's KMS key", region });
  }
  return awsFailure(err, { doing: `read the secret ${ref}`, action: 'secretsmanager:GetSecretValue on it', region });
}
