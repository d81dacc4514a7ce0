/** What one discovery pass changed, by integration name. */
export interface IntegrationChanges {
  added: string[];
  changed: string[];
  /** Marked unavailable: no longer found. */
  missing: string[];
  /** Found again after being missing. */
  returned: string[];
}

/**
 * The integrations Sesame serves right now (configured and discovered), as adapters that build
 * or use something per integration see them. `I` is the integration's description.
 */
export interface IntegrationsInView<I> {
  get(name: string): I | undefined;
  list(): I[];
  /** Called after each discovery pass that changed something. */
  onChange(listener: (changes: IntegrationChanges) => void): void;
}
