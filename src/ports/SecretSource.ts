/** A connector's credentials held outside the config (AWS Secrets Manager). */
export interface ConnectorSecret {
  username?: string;
  password: string;
}

export interface SecretSource {
  /** Reads the secret; with `fresh`, bypasses any cache (after an authentication failure). */
  read(ref: string, options?: { fresh?: boolean }): Promise<ConnectorSecret>;
}
