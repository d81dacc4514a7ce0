import { MemoryOutbox } from '../../src/adapters/local/MemoryOutbox.ts';
import { notificationOutboxContract } from './NotificationOutbox.contract.ts';

notificationOutboxContract('MemoryOutbox', async () => ({ outbox: new MemoryOutbox(), close: async () => undefined }), {
  timeout: 10_000,
});
