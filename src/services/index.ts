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

export function createServices(deps: ServiceDeps): Services {
  const people = new People(deps);
  const grants = new GrantService(deps, people);
  return {
    people,
    grants,
    requests: new RequestService(deps, people, grants),
    maintenance: new MaintenanceService(deps),
    catalog: new CatalogService(deps, people),
  };
}
