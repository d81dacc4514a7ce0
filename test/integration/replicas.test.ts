/**
 * Three replicas of the bot over HTTP behind a load balancer, sharing a PostgreSQL state, under a
 * steady load of one-minute grants while replicas are killed (SIGKILL) in turn and started again,
 * the one leading the `expire` job right when a grant is due to end. Nothing may be lost or
 * doubled, and no access may outlive its expiry by more than one `expire` interval.
 */
import { describe } from 'node:test';
import { replicaLoadSuite } from '../support/replicaLoad.ts';

describe('three replicas over HTTP behind a load balancer', { timeout: 240_000 }, () => {
  replicaLoadSuite('http');
});
