/**
 * What several Sesame replicas on one shared state agree on (PRODUCT.md §7 "Several replicas"):
 * one holder per lock, one leader per job, one handling per Slack delivery, one delivery per
 * notification. One process on the embedded store coordinates with itself alone; on the
 * PostgreSQL state the database does it, so Sesame adds no coordination service of its own.
 */
export interface Coordination {
  /** Mutual exclusion per key across every replica: the per-person lock, the pending cap. */
  locks: KeyedLock;
  /** Which replica runs each scheduled job. */
  leadership: Leadership;
  /** Slack payloads already taken by a replica, so a retry or redelivery is handled once. */
  deliveries: DeliveryLog;
  /** Stops leading, ends the lock connections. */
  close(): Promise<void>;
}

/** Runs work for one key at a time, wherever it is asked for; different keys run side by side. */
export interface KeyedLock {
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
}

/**
 * Leadership per scheduled job. A replica runs a job only while it leads it; it asks at each of
 * the job's ticks, and keeps leading until it stops or loses its state connection.
 */
export interface Leadership {
  /** True when this replica leads `jobId` now, taking the lead if nobody holds it. */
  lead(jobId: string): Promise<boolean>;
  /** The jobs this replica leads now. */
  leading(): readonly string[];
  /** Other live replicas whose config differs from this one's (empty when all agree). */
  configMismatches(): readonly ReplicaSeen[];
}

/** A live replica as the shared state last saw it. */
export interface ReplicaSeen {
  replicaId: string;
  configHash: string;
  seenAt: Date;
}

/**
 * Slack payloads taken, by a key that stays the same across Slack's retries and redeliveries
 * (the event ID, the trigger ID).
 */
export interface DeliveryLog {
  /**
   * Takes `key`: true the first time anywhere, and again when whoever took it never acknowledged
   * it and took it longer than {@link DELIVERY_TAKEOVER_MS} ago (it died: Slack's retry is this
   * replica's to handle); false for a retry or redelivery of a payload taken or acknowledged.
   */
  take(key: string, now: Date): Promise<boolean>;
  /** The payload was acknowledged to Slack: its retries are duplicates from now on. */
  acknowledged(key: string): Promise<void>;
}

/** A payload taken but not acknowledged for this long was taken by a replica that died or hung. */
export const DELIVERY_TAKEOVER_MS = 3_000;

/** Delivery keys are forgotten after this long: Slack retries an event for at most about an hour. */
export const DELIVERY_MEMORY_MS = 24 * 60 * 60_000;

/** A notification as queued: which notifier call, with what. */
export interface OutboxDraft {
  /**
   * Entries with one key are delivered one at a time, in the order they were queued: a request's
   * ID, so an update never overtakes the post it updates.
   */
  key: string;
  /** The notifier call to make, e.g. `requestUpdated`. */
  kind: string;
  /** Its argument, as JSON. */
  payload: unknown;
}

export interface OutboxEntry extends OutboxDraft {
  id: number;
  /** Posts already made for it, by step name: a retried delivery makes only the others. */
  done: string[];
  attempts: number;
  createdAt: Date;
}

/**
 * The durable queue of notifications (Teleport's plugins compare-and-swap before posting; this
 * claims before posting). A replica claims an entry for a while; one that dies holding it leaves
 * it to another once the claim runs out.
 */
export interface NotificationOutbox {
  enqueue(draft: OutboxDraft, at: Date): Promise<void>;
  /**
   * Claims the oldest entry due by `now` whose key has no earlier entry left and no claimed one,
   * for `leaseMs`; undefined when none is ready.
   */
  claim(owner: string, now: Date, leaseMs: number): Promise<OutboxEntry | undefined>;
  /** Records a step done and renews the claim; false when the claim was lost to another replica. */
  stepDone(id: number, owner: string, step: string, now: Date, leaseMs: number): Promise<boolean>;
  /**
   * Extends the claim while a delivery is under way (a Slack call waiting out a rate limit);
   * false when the claim was lost.
   */
  renew(id: number, owner: string, now: Date, leaseMs: number): Promise<boolean>;
  /** The entry was delivered: it is gone. */
  complete(id: number, owner: string): Promise<void>;
  /** The delivery failed: the entry is due again at `retryAt`, with the error kept. */
  retryLater(id: number, owner: string, retryAt: Date, error: string): Promise<void>;
  /** How many entries wait. */
  backlog(): Promise<number>;
}
