/**
 * Passwords Sesame mints for people's database users: random, never stored, shown once.
 */
const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const PASSWORD_LENGTH = 24;

/**
 * A random password of 24 characters (about 139 bits) from an alphabet that survives URIs and
 * shells unquoted. Bytes at or above the largest multiple of the alphabet's size are skipped so
 * every character is equally likely.
 */
export function mintPassword(randomBytes: (n: number) => Uint8Array): string {
  const limit = 256 - (256 % PASSWORD_ALPHABET.length);
  let out = '';
  while (out.length < PASSWORD_LENGTH) {
    for (const b of randomBytes(PASSWORD_LENGTH)) {
      if (b < limit && out.length < PASSWORD_LENGTH) out += PASSWORD_ALPHABET[b % PASSWORD_ALPHABET.length];
    }
  }
  return out;
}
