import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { InputError } from '../../domain/errors.ts';

/** PostgreSQL's own default iteration count (`scram_iterations`). */
const SCRAM_ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password`, in the form `ALTER ROLE …
 * PASSWORD` accepts as already encrypted. Sending the verifier instead of the password keeps the
 * password itself out of the server's statement log, `pg_stat_statements` and
 * `pg_stat_activity`. PostgreSQL prepares passwords with SASLprep, which leaves printable ASCII
 * as it is; Sesame mints such passwords, and anything else is refused rather than stored in a
 * form a client might prepare differently.
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16)): string {
  if (!/^[\x21-\x7e]+$/.test(password)) {
    throw new InputError('A database password must be printable ASCII characters without spaces.');
  }
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
