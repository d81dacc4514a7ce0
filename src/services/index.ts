import { KeyedMutex } from '../lib/KeyedMutex.ts';
import { CatalogService } from './CatalogService.ts';
import { GrantService } from './GrantService.ts';
import { MaintenanceService } from './MaintenanceService.ts';
import { People } from './People.ts';
import { RequestService } from './RequestService.ts';
import type { ServiceDeps } from './ServiceDeps.ts';

export type { ServiceDeps } from './ServiceDeps.ts';

/** Every use case of Sesame, built on one set of ports. */
export interface Services {
  people: People;
  grants: GrantService;
  requests: RequestService;
  maintenance: MaintenanceService;
  catalog: CatalogService;
}

/** `people` is given when the composition root built it before the services (for the notifier). */
export function createServices(deps: ServiceDeps, people: People = new People(deps)): Services {
  // One lock per database user, held by every step that changes that user.
  const userLocks = new KeyedMutex();
  const grants = new GrantService(deps, people, userLocks);
  return {
    people,
    grants,
    requests: new RequestService(deps, people, grants),
    maintenance: new MaintenanceService(deps, userLocks),
    catalog: new CatalogService(deps, people),
  };
}
