import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { StateStore } from '../../src/ports/StateStore.ts';
import { deadlineContract } from './stateStore/deadlines.ts';
import { recordsContract } from './stateStore/records.ts';
import { requestQueryContract } from './stateStore/requestQueries.ts';
import { requestContract } from './stateStore/requests.ts';
import { sessionRecordsContract } from './stateStore/sessionRecords.ts';

/** How long the whole suite may take on one implementation before it fails instead of hanging. */
export interface StateStoreContractOptions {
  timeout: number;
}

/**
 * The behaviour every {@link StateStore} must have, each narrow port's methods in turn (the parts
 * are in `stateStore/`). A new implementation runs it from a small file of its own that calls this
 * with a factory: `createStore` is called before each test and must return an empty store, and the
 * suite closes that store after the test (so `close` must release whatever the factory took).
 */
export function stateStoreContract(
  name: string,
  createStore: () => StateStore | Promise<StateStore>,
  options: StateStoreContractOptions,
): void {
  describe(`StateStore contract: ${name}`, { timeout: options.timeout }, () => {
    let store: StateStore;

    beforeEach(async () => {
      store = await createStore();
    });

    afterEach(async () => {
      await store.close();
    });

    const live = theStoreOf(() => store);
    requestContract(live);
    requestQueryContract(live);
    deadlineContract(live);
    recordsContract(live);
    sessionRecordsContract(live);

    describe('readiness', () => {
      it('answers ping while open and fails it once closed', async () => {
        await store.ping();
        await store.close();
        await assert.rejects(store.ping());
        await assert.rejects(store.getRequest('RZZZZZZ'));
      });
    });
  });
}

/** A store that forwards every call to the store `current` gives when the call is made: the running test's. */
function theStoreOf(current: () => StateStore): StateStore {
  return new Proxy({} as StateStore, {
    get(_, method) {
      const store = current();
      const value: unknown = Reflect.get(store, method);
      return typeof value === 'function' ? value.bind(store) : value;
    },
  });
}
