import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { LIST_MORE_COUNTED, LIST_PAGE, listLimit, listMessage } from '../../src/adapters/slack/blocks/commandReplies.ts';
import { HOME_COUNTED, homeView } from '../../src/adapters/slack/blocks/homeView.ts';
import { parseCommandText } from '../../src/adapters/slack/commandText.ts';
import { validateMessage, validateView } from '../../src/playground/slack/blockKitRules.ts';
import { seedGrants } from '../support/manyGrants.ts';
import { serviceWorld, type ServiceWorld } from '../support/services.ts';

/** 10,000 active grants over 100 integrations: Alice holds 1,200 of them, Bob 25, 500 others the rest. */
const GRANTS = 10_000;
const requesterOf = (i: number) => (i < 1200 ? 'U0ALICE' : i < 1225 ? 'U0BOB' : `U${String(i % 500).padStart(5, '0')}`);

function sectionTexts(blocks: readonly unknown[]): string[] {
  return blocks.flatMap((b) => {
    const text = (b as { type: string; text?: { text: string } }).text?.text;
    return (b as { type: string }).type === 'section' && text ? [text] : [];
  });
}

const idsIn = (blocks: readonly unknown[]) => sectionTexts(blocks).flatMap((t) => [...t.matchAll(/`(R[0-9A-Z]{6})`/g)].map((m) => m[1]!));

describe('the list and the Home tab at 10,000 active grants', { timeout: 120_000 }, () => {
  let w: ServiceWorld;
  before(async () => {
    w = serviceWorld();
    await seedGrants(w.store, { grants: GRANTS, integrations: 100, requesterOf });
  });

  it('`list` takes a page number after nothing, mine or all', () => {
    assert.deepEqual(parseCommandText('list 2'), { kind: 'list', page: 2 });
    assert.deepEqual(parseCommandText('list all 3'), { kind: 'list', all: true, page: 3 });
    assert.deepEqual(parseCommandText('list mine 2'), { kind: 'list', all: false, page: 2 });
    assert.deepEqual(parseCommandText('list all 1'), { kind: 'list', all: true });
    for (const bad of ['list 0', 'list two', 'list 2 all', 'list all 2 3', 'list 1234567']) {
      assert.throws(() => parseCommandText(bad), /takes nothing, `mine` or `all`, then a page number/, bad);
    }
  });

  it("pages everyone's requests for an admin: the newest first, within Slack's limits, with how many more", async () => {
    const first = await w.services.requests.listForCommand('U0ADMIN', true, listLimit(1));
    assert.equal(first.requests.length, listLimit(1));
    const page1 = listMessage(first.requests, { all: true, command: '/access' });
    assert.deepEqual(validateMessage(page1), []);
    const ids1 = idsIn(page1.blocks);
    assert.equal(ids1.length, LIST_PAGE);
    assert.match(JSON.stringify(page1.blocks.at(-1)), new RegExp(`and ${LIST_MORE_COUNTED}\\+ more, older: \`/access list all 2\``));
    const second = await w.services.requests.listForCommand('U0ADMIN', true, listLimit(2));
    const page2 = listMessage(second.requests, { all: true, command: '/access', page: 2 });
    assert.deepEqual(validateMessage(page2), []);
    const ids2 = idsIn(page2.blocks);
    assert.equal(ids2.length, LIST_PAGE);
    assert.equal(new Set([...ids1, ...ids2]).size, 2 * LIST_PAGE);
    // Newest first, page after page: the first two pages are the newest forty.
    const newest = (await w.store.listRequests({ limit: 2 * LIST_PAGE })).map((r) => r.id);
    assert.deepEqual([...ids1, ...ids2], newest);
  });

  it('counts exactly when fewer are left than it reads, and says when a page is past the end', async () => {
    const bob = await w.services.requests.listForCommand('U0BOB', undefined, listLimit(1));
    const page1 = listMessage(bob.requests, { all: bob.all, command: '/access' });
    assert.match(JSON.stringify(page1.blocks.at(-1)), /and 5 more, older: `\/access list mine 2`/);
    const page2 = listMessage(bob.requests, { all: false, command: '/access', page: 2 });
    assert.equal(idsIn(page2.blocks).length, 5);
    assert.doesNotMatch(JSON.stringify(page2.blocks), /more, older/);
    const page3 = listMessage(bob.requests, { all: false, command: '/access', page: 3 });
    assert.match(JSON.stringify(page3.blocks), /No page 3: there are 25 requests, 20 a page/);
  });

  it('shows counts and the first few of each section on the Home tab, within its 100 blocks', async () => {
    const [grants, pending, awaiting] = await Promise.all([
      w.services.requests.list('U0ALICE', { statuses: ['granted'], limit: HOME_COUNTED }),
      w.services.requests.list('U0ALICE', { statuses: ['pending'], limit: HOME_COUNTED }),
      w.services.requests.awaitingApproval('U0ALICE'),
    ]);
    const view = homeView({ mine: [...grants, ...pending], awaiting, command: '/access' });
    assert.deepEqual(validateView(view), []);
    assert.ok(view.blocks.length <= 100, `${view.blocks.length} blocks`);
    const text = JSON.stringify(view.blocks);
    assert.match(text, new RegExp(`Your access \\(${HOME_COUNTED}\\+\\)`));
    assert.match(text, /and 986\+ more; `\/access list` shows them all, 20 a page/);
    const bobGrants = await w.services.requests.list('U0BOB', { statuses: ['granted'], limit: HOME_COUNTED });
    const bobView = homeView({ mine: bobGrants, awaiting: [], command: '/access' });
    assert.deepEqual(validateView(bobView), []);
    assert.match(JSON.stringify(bobView.blocks), /Your access \(25\)/);
    assert.match(JSON.stringify(bobView.blocks), /and 11 more;/);
  });
});
