import { InMemoryStateStore } from '../support/InMemoryStateStore.ts';
import { stateStoreContract } from './StateStore.contract.ts';

stateStoreContract('InMemoryStateStore', () => new InMemoryStateStore(), { timeout: 30_000 });
