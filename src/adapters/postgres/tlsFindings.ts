import { effectiveSslMode, VERIFYING_SSL_MODES, type IntegrationConfig, type SslMode } from '../../config/schema.ts';
import type { CheckFinding } from '../../ports/TargetDatabase.ts';

/** What each sslMode below verify-ca leaves open, said the way `sesame check` prints it. */
const EXPOSURE: Record<Exclude<SslMode, 'verify-ca' | 'verify-full'>, string> = {
  disable: 'never encrypts the connection',
  allow: 'connects without TLS when the server lets it, and never checks the server certificate',
  prefer: 'falls back to no TLS when TLS fails, and never checks the server certificate',
  require: 'encrypts the connection but does not check the server certificate',
};

/**
 * `sesame check`'s word on an integration's TLS: a warning when its sslMode does not verify
 * the server's certificate, saying what someone on the network path could do and how to stop
 * them. Nothing when it does: that is the default, and the connection itself is checked by the
 * rest of the report.
 */
export function tlsFindings(integration: IntegrationConfig): CheckFinding[] {
  const sslMode = effectiveSslMode(integration);
  if (VERIFYING_SSL_MODES.includes(sslMode)) return [];
  const exposure = EXPOSURE[sslMode as keyof typeof EXPOSURE];
  // libpq's require with a root CA file verifies the chain, and so does Sesame; the setting
  // still reads as unverified to anyone else using it, hence a warning that says so.
  const chainChecked = sslMode === 'require' && integration.sslRootCert !== undefined;
  const fix =
    integration.type === 'aws-rds-postgresql'
      ? 'Set sslMode: verify-full; the RDS CA bundle is built in.'
      : "Set sslMode: verify-full, with sslRootCert naming the CA that signed the server's certificate.";
  return [
    {
      level: 'warn',
      message: chainChecked
        ? `${integration.name} uses sslMode require with sslRootCert, which Sesame treats as verify-ca (the certificate chain is checked, the host name is not), but other tools read require as unverified. ${fix}`
        : `${integration.name} uses sslMode ${sslMode}, which ${exposure}: anyone on the network path between Sesame and the server can pose as the server or sit in the middle, read and change every statement and result, and act in the connector's session with its rights (CREATEROLE). Sesame refuses to send the connector's password there in clear text or as MD5, but that does not stop the rest. ${fix}`,
    },
  ];
}
