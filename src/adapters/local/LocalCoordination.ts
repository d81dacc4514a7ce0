import { KeyedMutex } from '../../lib/KeyedMutex.ts';
import {
  type Coordination,
  DELIVERY_MEMORY_MS,
  DELIVERY_TAKEOVER_MS,
  type DeliveryLog,
  type Leadership,
  type ReplicaSeen,
} from '../../ports/Coordination.ts';

/**
 * Coordination of one process with itself, for the embedded (SQLite) state, which one replica
 * owns: locks are in-process, this process leads every job, and Slack deliveries are
 * remembered in memory (a restart forgets them; Slack's retries of a payload come within
 * minutes, and a restart that long is the only way to see one again).
 */
export class LocalCoordination implements Coordination {
  readonly locks = new KeyedMutex();
  readonly leadership: Leadership = new SoleLeadership();
  readonly deliveries: DeliveryLog = new MemoryDeliveryLog();

  async close(): Promise<void> {}
}

/** The only replica leads every job. */
class SoleLeadership implements Leadership {
  readonly #led = new Set<string>();

  async lead(jobId: string): Promise<boolean> {
    this.#led.add(jobId);
    return true;
  }

  leading(): readonly string[] {
    return [...this.#led].sort();
  }

  configMismatches(): readonly ReplicaSeen[] {
    return [];
  }
}

/** Delivery keys in a map, oldest first, forgotten after a day. */
export class MemoryDeliveryLog implements DeliveryLog {
  readonly #taken = new Map<string, { at: number; acknowledged: boolean }>();

  async take(key: string, now: Date): Promise<boolean> {
    const at = now.getTime();
    for (const [k, v] of this.#taken) {
      if (v.at >= at - DELIVERY_MEMORY_MS) break;
      this.#taken.delete(k);
    }
    const seen = this.#taken.get(key);
    if (seen && (seen.acknowledged || seen.at >= at - DELIVERY_TAKEOVER_MS)) return false;
    this.#taken.delete(key);
    this.#taken.set(key, { at, acknowledged: false });
    return true;
  }

  async acknowledged(key: string): Promise<void> {
    const seen = this.#taken.get(key);
    if (seen) seen.acknowledged = true;
  }
}
