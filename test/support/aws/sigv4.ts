/**
 * AWS Signature Version 4, the server's half: reading who signed a request and for which region,
 * and checking the signature when the secret key is known. The fake AWS uses it for requests
 * signed in the Authorization header; {@link parseRdsAuthToken} and {@link verifyRdsAuthToken}
 * use it for the presigned URLs that `@aws-sdk/rds-signer` hands out as IAM database passwords.
 *
 * Written from the SigV4 specification (canonical request, string to sign, derived signing key);
 * the tests prove it against the AWS SDK's own signer in both directions.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { InputError } from '../../../src/domain/errors.ts';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** SHA-256 of the empty string: the payload hash of a request without a body (a presigned GET). */
const EMPTY_PAYLOAD_SHA256 = createHash('sha256').update('').digest('hex');

/** The credential scope of a signature: `<accessKeyId>/<yyyymmdd>/<region>/<service>/aws4_request`. */
export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

/** What the Authorization header of a SigV4-signed request says. */
export interface AuthorizationHeader {
  scope: CredentialScope;
  signedHeaders: string[];
  signature: string;
}

/** The parts of a request that its signature covers. */
export interface SignedRequest {
  method: string;
  /** The path as sent, without the query string. */
  path: string;
  /** Query parameters, decoded; a name may repeat. */
  query: [string, string][];
  /** Header values by lower-case name, as node:http hands them over. */
  headers: Record<string, string | string[] | undefined>;
  /** Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`. */
  payloadHash: string;
}

function parseScope(credential: string): CredentialScope | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  if (!accessKeyId || !/^\d{8}$/.test(date) || !region || !service) return undefined;
  return { accessKeyId, date, region, service };
}

/** Reads an `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header; undefined if malformed. */
export function parseAuthorizationHeader(header: string | undefined): AuthorizationHeader | undefined {
  if (!header?.startsWith(`${SIGV4_ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(SIGV4_ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const scope = parseScope(fields.get('Credential') ?? '');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!scope || !signedHeaders || !signature) return undefined;
  return { scope, signedHeaders: signedHeaders.split(';'), signature };
}

/** RFC 3986 percent-encoding as SigV4 wants it: everything but unreserved characters. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: [string, string][]): string {
  return query
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`)
    .sort()
    .join('&');
}

/** Services other than S3 sign the path URI-encoded once more than it travels. */
function canonicalPath(path: string): string {
  const encoded = path
    .split('/')
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join('/');
  return uriEncode(encoded).replace(/%2F/g, '/') || '/';
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .trim();
}

function canonicalRequest(request: SignedRequest, signedHeaders: string[]): string {
  return [
    request.method,
    canonicalPath(request.path),
    canonicalQuery(request.query),
    ...signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}`),
    '',
    signedHeaders.join(';'),
    request.payloadHash,
  ].join('\n');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function scopeString(scope: CredentialScope): string {
  return `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
}

/** The signature a holder of `secretAccessKey` computes for `request` at `amzDate` within `scope`. */
export function computeSignature(
  request: SignedRequest,
  signedHeaders: string[],
  scope: CredentialScope,
  amzDate: string,
  secretAccessKey: string,
): string {
  const stringToSign = [
    SIGV4_ALGORITHM,
    amzDate,
    scopeString(scope),
    createHash('sha256').update(canonicalRequest(request, signedHeaders), 'utf8').digest('hex'),
  ].join('\n');
  const dateKey = hmac(`AWS4${secretAccessKey}`, scope.date);
  const signingKey = hmac(hmac(hmac(dateKey, scope.region), scope.service), 'aws4_request');
  return createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
}

/** Compares two hex signatures in constant time. */
export function signaturesMatch(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Hex SHA-256 of a request body, for comparing with `x-amz-content-sha256`. */
export function sha256Hex(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The parts of an IAM database authentication token, as `@aws-sdk/rds-signer` builds it. */
export interface RdsAuthToken {
  hostname: string;
  port: number;
  /** `DBUser`: the database user the token logs in as. */
  user: string;
  /** `Action`: always `connect`. */
  action: string;
  scope: CredentialScope;
  /** `X-Amz-Date`, e.g. `20260601T090000Z`. */
  amzDate: string;
  expiresSeconds: number;
  signedHeaders: string[];
  signature: string;
  /** The query parameters in the order the token carries them. */
  query: [string, string][];
}

/**
 * Reads a token of the form `host:port/?Action=connect&DBUser=…&X-Amz-Algorithm=…&X-Amz-Credential=…`.
 * Throws an {@link InputError} naming the first part that is missing or malformed.
 */
export function parseRdsAuthToken(token: string): RdsAuthToken {
  const match = /^([^/:?]+):(\d+)\/\?(.+)$/.exec(token);
  if (!match) throw new InputError('An RDS auth token looks like host:port/?Action=connect&…; this one does not.');
  const [, hostname, port, queryString] = match as unknown as [string, string, string, string];
  const query = [...new URLSearchParams(queryString)];
  const param = (name: string): string => {
    const value = query.find(([n]) => n === name)?.[1];
    if (value === undefined || value === '') throw new InputError(`The RDS auth token has no ${name} parameter.`);
    return value;
  };
  if (param('X-Amz-Algorithm') !== SIGV4_ALGORITHM) {
    throw new InputError(`The RDS auth token is not signed with ${SIGV4_ALGORITHM}.`);
  }
  const scope = parseScope(param('X-Amz-Credential'));
  if (!scope) throw new InputError('The RDS auth token has a malformed X-Amz-Credential.');
  return {
    hostname,
    port: Number(port),
    user: param('DBUser'),
    action: param('Action'),
    scope,
    amzDate: param('X-Amz-Date'),
    expiresSeconds: Number(param('X-Amz-Expires')),
    signedHeaders: param('X-Amz-SignedHeaders').split(';'),
    signature: param('X-Amz-Signature'),
    query,
  };
}

/**
 * Whether the token's signature is the one `secretAccessKey` makes: what RDS checks before it
 * lets an IAM user in (expiry aside, which depends on the clock of the one asking).
 */
export function verifyRdsAuthToken(token: string, secretAccessKey: string): boolean {
  const parsed = parseRdsAuthToken(token);
  const request: SignedRequest = {
    method: 'GET',
    path: '/',
    query: parsed.query,
    headers: { host: `${parsed.hostname}:${parsed.port}` },
    payloadHash: EMPTY_PAYLOAD_SHA256,
  };
  const expected = computeSignature(request, parsed.signedHeaders, parsed.scope, parsed.amzDate, secretAccessKey);
  return signaturesMatch(expected, parsed.signature);
}
