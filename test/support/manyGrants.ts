// Many active grants in a state store, for the scale tests and benchmarks.
import type { AccessRequest } from '../../src/domain/request.ts';
import type { StateStore } from '../../src/ports/StateStore.ts';
import { MINUTE, newRequest, T0 } from './stateFixtures.ts';

export interface ManyGrants {
  /** Active grants in all. */
  grants: number;
  /** Integrations they are spread over: `int-000`, `int-001`, … */
  integrations: number;
  /** Who holds grant `i` (newest last). */
  requesterOf: (i: number) => string;
  /** When the first was created; `T0` unless given (a running bot wants grants that have not expired). */
  start?: Date;
}

/**
 * Stores `grants` granted requests, each created a second after the one before and expiring in
 * eight hours, the `i`-th on integration `int-<i mod integrations>` for `requesterOf(i)`.
 */
export async function seedGrants(store: Pick<StateStore, 'createRequest' | 'transition'>, many: ManyGrants): Promise<AccessRequest[]> {
  const stored: AccessRequest[] = [];
  const at = (ms: number) => new Date((many.start ?? T0).getTime() + ms);
  for (let i = 0; i < many.grants; i++) {
    const integration = `int-${String(i % many.integrations).padStart(3, '0')}`;
    const slackId = many.requesterOf(i);
    const created = await store.createRequest(
      newRequest({
        requester: { slackId, email: `${slackId.toLowerCase()}@example.com` },
        target: { integration, database: 'app', schema: 'public' },
        createdAt: at(i * 1000),
        approverGroups: [],
      }),
      'approved',
    );
    await store.transition(created.id, ['approved'], 'granting', {
      dbUser: `${slackId.toLowerCase()}@example.com`,
      serverKey: `${integration}.example:5432`,
    });
    const granted = await store.transition(created.id, ['granting'], 'granted', {
      grantedAt: at(i * 1000),
      expiresAt: at(i * 1000 + 480 * MINUTE),
      grantedRoles: [`sesame_readonly_${integration}`],
    });
    stored.push(granted!);
  }
  return stored;
}
