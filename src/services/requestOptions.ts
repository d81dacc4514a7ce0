import type { Bundle } from '../domain/bundle.ts';
import { justificationHintOf } from '../domain/flows.ts';
import { formatTarget } from '../domain/target.ts';
import type { Permission } from '../domain/permission.ts';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';
import type { People } from './People.ts';
import type { IntegrationOptions, RequestOptions } from './requestInputs.ts';

/**
 * What the person may request, per integration: the permissions, the longest duration and the
 * default one, whether a reason is required, and the flows' narrowing of targets. Break-glass
 * flows are left out: they are asked for on purpose, never offered as the usual way in.
 */
export async function requestOptionsFor(
  deps: { people: Pick<People, 'flowsFor'>; integrations: Pick<IntegrationRegistry, 'available'>; bundles: readonly Bundle[] },
  slackId: string,
): Promise<RequestOptions> {
  const flows = await deps.people.flowsFor(slackId);
  const mine = flows.filter((f) => !f.breakGlass);
  const emergency = flows.filter((f) => f.breakGlass);
  const integrations: IntegrationOptions[] = [];
  for (const integration of deps.integrations.available()) {
    const covering = mine.filter((f) => !f.targets || f.targets.some((t) => t.integration === integration.name));
    if (covering.length === 0) continue;
    const permissions = [...new Set(covering.flatMap((f) => f.permissions))].filter(
      (p) => !p.startsWith('role:') || integration.grantableRoles.includes(p.slice(5)),
    ) as Permission[];
    const maxDurationMinutes = Math.max(...covering.map((f) => f.maxDuration));
    const withDefault = covering.find((f) => f.defaultDuration !== undefined);
    integrations.push({
      name: integration.name,
      permissions,
      maxDurationMinutes,
      defaultDurationMinutes: withDefault?.defaultDuration ?? Math.min(60, maxDurationMinutes),
      requireJustification: covering.every((f) => f.requireJustification || f.justification !== undefined),
      justificationHint: justificationHintOf(covering),
      customAccessDetails: integration.customAccessDetails,
    });
  }
  const offered = new Set(integrations.map((i) => i.name));
  const bundles = deps.bundles
    .filter((b) => b.parts.every((p) => offered.has(p.target.integration)))
    .map((b) => ({ name: b.name, description: b.description, parts: b.parts.map((p) => `${formatTarget(p.target)} ${p.permission}`) }));
  const breakGlass = deps.integrations
    .available()
    .filter((i) => emergency.some((f) => !f.targets || f.targets.some((t) => t.integration === i.name)))
    .map((i) => i.name);
  return { integrations, bundles, ...(breakGlass.length > 0 ? { breakGlass } : {}) };
}
