/**
 * The process's answer to SIGTERM and SIGINT (src/lifecycle.ts), on a stand-in for the process:
 * a stop that finishes exits 0, one that hangs exits 1 after the time limit naming what did not
 * finish, a signal during start-up aborts it, and a repeated signal counts once unless it comes
 * later, when it exits at once.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { setTimeout as wait } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { sleep, stopOnSignals } from '../../src/lifecycle.ts';
import { capturingLogger } from '../support/logs.ts';

function world(timeoutMs = 10_000) {
  const { logger, lines } = capturingLogger('info');
  const source = new EventEmitter();
  const exits: number[] = [];
  const stop = stopOnSignals({ logger, timeoutMs, exit: (code) => exits.push(code), source: source as never });
  const msgs = () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  return { stop, source, exits, msgs };
}

describe('stopping on signals', { timeout: 20_000 }, () => {
  it('closes the running bot and exits 0', async () => {
    const { stop, source, exits, msgs } = world();
    let closed = false;
    stop.stopWith({
      close: async () => {
        closed = true;
      },
    });
    source.emit('SIGTERM', 'SIGTERM');
    await wait(10);
    assert.ok(closed);
    assert.deepEqual(exits, [0]);
    assert.deepEqual(msgs(), ['stopping: finishing work in flight', 'stopped']);
  });

  it('exits 1 when the stop takes longer than the limit, naming what did not finish', async () => {
    const { stop, source, exits, msgs } = world(100);
    stop.stopWith({ close: () => new Promise<void>(() => undefined), pending: () => 'Slack listeners at work' });
    source.emit('SIGTERM', 'SIGTERM');
    await wait(300);
    assert.deepEqual(exits, [1]);
    assert.match(msgs().at(-1)!, /stopping took longer than 0\.1 s: exiting before Slack listeners at work finished/);
  });

  it('aborts start-up at a signal, and exits 0 once start-up has cleaned up', async () => {
    const { stop, source, exits } = world();
    stop.stage('checking the bot token with Slack (auth.test)');
    const waiting = sleep(60_000, stop.signal);
    source.emit('SIGTERM', 'SIGTERM');
    await assert.rejects(waiting, /stopped by SIGTERM/);
    assert.deepEqual(exits, []);
    stop.stopWith({ close: async () => undefined });
    await wait(10);
    assert.deepEqual(exits, [0]);
  });

  it('names the start-up step when start-up does not give up in time', async () => {
    const { stop, source, exits, msgs } = world(100);
    stop.stage('opening the state store');
    source.emit('SIGINT', 'SIGINT');
    await wait(300);
    assert.deepEqual(exits, [1]);
    assert.match(msgs().at(-1)!, /before start-up \(opening the state store\) finished/);
  });

  it('counts a signal repeated at once (terminal and npm both send Ctrl-C) as one; a later one exits at once', async () => {
    const { stop, source, exits, msgs } = world();
    stop.stopWith({ close: () => new Promise<void>(() => undefined), pending: () => 'scheduled jobs' });
    source.emit('SIGINT', 'SIGINT');
    source.emit('SIGINT', 'SIGINT');
    await wait(10);
    assert.deepEqual(exits, []);
    assert.equal(msgs().filter((m) => m.startsWith('stopping')).length, 1);
    await wait(1_100);
    source.emit('SIGTERM', 'SIGTERM');
    assert.deepEqual(exits, [1]);
    assert.match(msgs().at(-1)!, /SIGTERM again: exiting now, before scheduled jobs finished/);
  });
});
