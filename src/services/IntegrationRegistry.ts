import type { Integration } from '../domain/integration.ts';
import type { IntegrationChanges, IntegrationsInView } from '../ports/IntegrationsInView.ts';
import type { Clock } from '../ports/Clock.ts';

/** Where an integration comes from. */
export type IntegrationSource = 'config' | 'discovery';

export interface IntegrationEntry {
  config: Integration;
  source: IntegrationSource;
  /** False once discovery no longer finds it: new requests are refused, live grants stay. */
  available: boolean;
  /** When discovery stopped finding it. */
  missingSince?: Date;
}

/** What one discovery pass changed. */
export type DiscoveryChanges = IntegrationChanges;

/**
 * The integrations Sesame serves right now: those of the config file, which never change while
 * it runs, and those discovery found, which come and go. One that discovery no longer finds is
 * kept, marked unavailable, so its live grants stay listed and are revoked once it is reachable
 * again; it is never forgotten while anything may still need it.
 */
export class IntegrationRegistry implements IntegrationsInView<Integration> {
  private readonly entries = new Map<string, IntegrationEntry>();
  private readonly listeners: ((changes: DiscoveryChanges) => void)[] = [];

  constructor(
    configured: readonly Integration[],
    private readonly clock: Clock,
  ) {
    for (const config of configured) this.entries.set(config.name, { config, source: 'config', available: true });
  }

  /** Every integration, available or not: the config's first, then discovered ones as found. */
  list(): Integration[] {
    return [...this.entries.values()].map((e) => e.config);
  }

  /** The integrations new requests may name. */
  available(): Integration[] {
    return [...this.entries.values()].filter((e) => e.available).map((e) => e.config);
  }

  /** The integrations discovery found (available or not). */
  discovered(): Integration[] {
    return [...this.entries.values()].filter((e) => e.source === 'discovery').map((e) => e.config);
  }

  get(name: string): Integration | undefined {
    return this.entries.get(name)?.config;
  }

  entry(name: string): IntegrationEntry | undefined {
    const e = this.entries.get(name);
    return e && { ...e };
  }

  isAvailable(name: string): boolean {
    return this.entries.get(name)?.available === true;
  }

  /** Called after each discovery pass with what changed (to drop stale connection pools, say). */
  onChange(listener: (changes: DiscoveryChanges) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Applies a discovery pass. `found` is everything discovery sees now; integrations it found
   * before in a region it could not read this time (`unreadable(config)` is true) are left as they
   * were, so a throttled region does not make its databases disappear. A discovered name never
   * replaces one from the config file.
   */
  applyDiscovery(found: readonly Integration[], unreadable: (config: Integration) => boolean = () => false): DiscoveryChanges {
    const changes: DiscoveryChanges = { added: [], changed: [], missing: [], returned: [] };
    const seen = new Set<string>();
    for (const config of found) {
      const existing = this.entries.get(config.name);
      if (existing?.source === 'config') continue;
      seen.add(config.name);
      if (!existing) {
        this.entries.set(config.name, { config, source: 'discovery', available: true });
        changes.added.push(config.name);
        continue;
      }
      if (!existing.available) changes.returned.push(config.name);
      else if (JSON.stringify(existing.config) !== JSON.stringify(config)) changes.changed.push(config.name);
      this.entries.set(config.name, { config, source: 'discovery', available: true });
    }
    for (const [name, entry] of this.entries) {
      if (entry.source !== 'discovery' || seen.has(name) || !entry.available) continue;
      if (unreadable(entry.config)) continue;
      this.entries.set(name, { ...entry, available: false, missingSince: this.clock.now() });
      changes.missing.push(name);
    }
    for (const listener of this.listeners) listener(changes);
    return changes;
  }
}
