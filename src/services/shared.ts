import { integrationNotFound, NotFoundError } from '../domain/errors.ts';
import type { Integration } from '../domain/integration.ts';
import type { AccessRequest } from '../domain/request.ts';
import { describeError, type Logger } from '../logger.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';

/** Makes `n` random bytes; the services draw request IDs and passwords from it. */
export type RandomBytes = (n: number) => Uint8Array;

/** Calls the notifier without letting a failure reach the caller (PRODUCT.md §7). */
export async function notify(logger: Logger, what: string, call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (err) {
    logger.warn({ notification: what, err: describeError(err) }, 'notification failed');
  }
}

/** The request with this ID, or a NotFoundError that tells the person where to look. */
export async function requireRequest(requests: Pick<RequestStore, 'getRequest'>, id: string): Promise<AccessRequest> {
  const req = await requests.getRequest(id);
  if (!req) throw new NotFoundError(`There is no request ${id}. /access list shows yours.`);
  return req;
}

/** The integration of this name, or the error that lists the known ones. */
export function requireIntegration(integrations: Pick<IntegrationRegistry, 'get' | 'list'>, name: string): Integration {
  const i = integrations.get(name);
  if (!i)
    throw integrationNotFound(
      name,
      integrations.list().map((known) => known.name),
    );
  return i;
}
