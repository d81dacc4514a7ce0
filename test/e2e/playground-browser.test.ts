/**
 * The playground in a real browser: Debian's Chromium, driven by playwright-core, clicks through
 * the page as people would. First the page alone, on a sample state (escaping, confirm dialogs,
 * modal values and errors, live updates); then the whole playground: a readwrite request
 * approved by an owner in the approvals channel, the credentials shown, a query that works, a
 * Revoke, and the same query refused.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { runPlayground, type RunningPlayground } from '../../src/playground/run.ts';
import { startPageFixture, SAMPLE_PEOPLE, type PageFixture } from '../support/playground/pageFixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const DOCS_SCREENSHOT = fileURLToPath(new URL('../../docs/playground.png', import.meta.url));

interface Browser {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors on the page: there must be none. */
  errors: string[];
  close(): Promise<void>;
}

/** Starts Chromium headless with a fresh profile; fails (never skips) when it is not installed. */
async function openBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: run \`apt-get install -y chromium\` (the browser test needs it).`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'sesame-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const person = (page: Page, id: string) => page.getByTestId(`person-${id}`);
/** The text of an element, as in the DOM. */
const text = async (locator: Locator) => (await locator.textContent()) ?? '';
/** A button by the start of its action ID (`sesame.approve:` for any request). */
const actionButton = (scope: Locator, prefix: string) => scope.locator(`[data-testid^="action-${prefix}"]`).first();

async function waitForPost(fixture: PageFixture, path: string, from: number) {
  for (let i = 0; i < 100; i++) {
    const found = fixture.posts.slice(from).find((p) => p.path === path);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`no POST /api/${path}; posts: ${JSON.stringify(fixture.posts.slice(from))}`);
}

describe('playground page on a sample state', { timeout: 180_000 }, () => {
  let browser: Browser;
  let fixture: PageFixture;
  const alice = SAMPLE_PEOPLE.requester.id;
  const dana = SAMPLE_PEOPLE.dba.id;

  before(async () => {
    fixture = await startPageFixture();
    browser = await openBrowser();
    await browser.page.goto(fixture.url);
    await browser.page.locator('body[data-ready="true"]').waitFor();
  });
  after(async () => {
    await browser?.close();
    await fixture?.close();
  });

  it('shows the banner, the four people and what people wrote as text, never as HTML', async () => {
    const { page } = browser;
    assert.match(await text(page.getByTestId('banner')), /temporary folder.*127\.0\.0\.1/s);
    assert.equal(await page.locator('[data-testid^="person-U"]').count(), 4);
    const owner = person(page, SAMPLE_PEOPLE.owner.id);
    assert.match(await text(owner.getByTestId('dm')), /fix the <orders> of today & check <@U0OWEN>/);
    assert.equal(await page.locator('orders').count(), 0);
    assert.match(await text(owner.getByTestId('dm')), /🔑 Access request R7K3QX2/);
    assert.equal(await person(page, alice).getByTestId('ephemeral').getByText('Only visible to you').count(), 1);
  });

  it('fills the SQL box from the open credentials modal and closes the modal as Slack would', async () => {
    const { page } = browser;
    const column = person(page, alice);
    assert.equal(await text(column.getByTestId('modal-title')), 'Your credentials');
    await column.getByTestId('sql-use-credentials').click();
    assert.equal(await column.getByTestId('sql-username').inputValue(), 'sesame_alice');
    assert.equal(await column.getByTestId('sql-password').inputValue(), 'p&ss<w>rd`x');
    assert.equal(await column.getByTestId('sql-database').inputValue(), 'shop');
    await column.getByTestId('composer').fill('/access list');
    const from = fixture.posts.length;
    await column.getByTestId('modal-close').click();
    assert.deepEqual((await waitForPost(fixture, 'close', from)).body, { user: alice, viewId: 'VCREDS' });
    fixture.state.people[0]!.modals = [];
    fixture.state.audit.push({ at: new Date().toISOString(), action: 'credentials.revealed', actor: alice, requestId: 'R7K3QX2' });
    fixture.announce();
    await column.getByTestId('modal-layer').waitFor({ state: 'hidden' });
    await page.getByTestId('events').getByText('credentials.revealed').waitFor();
    assert.equal(await column.getByTestId('composer').inputValue(), '/access list', 'typing survives a redraw');
  });

  it('asks for confirmation before Revoke and sends the click only when confirmed', async () => {
    const { page } = browser;
    const column = person(page, alice);
    const from = fixture.posts.length;
    await actionButton(column, 'sesame.revoke:').click();
    await page.getByTestId('confirm-dialog').getByText('End this access now?').waitFor();
    await page.getByTestId('confirm-no').click();
    await actionButton(column, 'sesame.revoke:').click();
    await page.getByTestId('confirm-yes').click();
    const post = await waitForPost(fixture, 'action', from);
    assert.equal(fixture.posts.slice(from).filter((p) => p.path === 'action').length, 1);
    const dm = fixture.state.people[0]!.dm[0]!;
    assert.deepEqual(post.body, {
      user: alice,
      surface: { kind: 'message', channel: dm.channel, ts: dm.ts },
      actionId: 'sesame.revoke:R7K3QX2',
      blockId: 'grant:R7K3QX2',
    });
  });

  it('collects a modal form with an external select, and shows the errors a submission answers', async () => {
    const { page } = browser;
    const column = person(page, dana);
    fixture.answers.set('options', { ok: true, options: [{ text: 'shop', value: 'shop' }] });
    let from = fixture.posts.length;
    await column.getByTestId('external-sesame.request.database').fill('sh');
    await column.getByTestId('suggestions-sesame.request.database').getByText('shop').click();
    const options = await waitForPost(fixture, 'options', from);
    assert.equal(options.body.actionId, 'sesame.request.database');
    assert.equal(options.body.blockId, 'database@sample');
    await column.getByTestId('select-permission').selectOption('readwrite');
    await column.getByTestId('text-reason').fill('month end');
    fixture.answers.set('submit', { ok: true, errors: { 'duration@sample': 'At most 8h.' } });
    from = fixture.posts.length;
    await column.getByTestId('modal-submit').click();
    const submit = await waitForPost(fixture, 'submit', from);
    assert.deepEqual(submit.body, {
      user: dana,
      viewId: 'VFORM',
      values: {
        integration: { 'sesame.request.integration': 'sample' },
        'database@sample': { 'sesame.request.database': 'shop' },
        'schema@sample': { 'sesame.request.schema': null },
        'table@sample': { 'sesame.request.table': null },
        'permission@sample': { permission: 'readwrite' },
        more: { more: null },
        'duration@sample': { duration: '1h' },
        'reason@sample': { reason: 'month end' },
      },
    });
    assert.equal(await text(column.getByTestId('error-duration@sample')), 'At most 8h.');
  });

  it('opens the Home tab (telling Sesame) and folds threads in the channel', async () => {
    const { page } = browser;
    const column = person(page, SAMPLE_PEOPLE.owner.id);
    const from = fixture.posts.length;
    await column.getByTestId('tab-home').click();
    assert.deepEqual((await waitForPost(fixture, 'home', from)).body, { user: SAMPLE_PEOPLE.owner.id });
    await column.getByTestId('tab-channel').click();
    await column.getByTestId('channel').getByTestId('thread-toggle').click();
    await column
      .getByTestId('thread')
      .getByText(/granted until/)
      .waitFor();
    assert.deepEqual(browser.errors, []);
  });
});

describe('playground in the browser: ask, approve, query, revoke', { timeout: 180_000 }, () => {
  let browser: Browser;
  let playground: RunningPlayground;
  let lockDir: string;
  const shots = mkdtempSync(join(tmpdir(), 'sesame-playground-shots-'));
  const ada = 'U0ADA';
  const grace = 'U0GRACE';
  const QUERY = 'SELECT name, price FROM products ORDER BY id';
  /** The screenshots stay for a look when the walk fails, and go when it passed. */
  let walked = false;

  before(async () => {
    browser = await openBrowser();
    lockDir = mkdtempSync(join(tmpdir(), 'sesame-playground-lock-'));
    playground = await runPlayground({ port: 0, lockFile: join(lockDir, 'playground.lock') });
    await browser.page.goto(playground.address);
    await browser.page.locator('body[data-ready="true"]').waitFor();
  });
  after(async () => {
    await browser?.close();
    await playground?.stop();
    if (lockDir) rmSync(lockDir, { recursive: true, force: true });
    if (walked) rmSync(shots, { recursive: true, force: true });
  });

  const shot = (name: string) => browser.page.screenshot({ path: join(shots, `${name}.png`) });

  async function runQuery(column: Locator): Promise<{ state: string; text: string }> {
    const result = column.getByTestId('sql-result');
    await column.getByTestId('sql-text').fill(QUERY);
    await column.getByTestId('sql-run').click();
    await column.locator('[data-testid="sql-result"]:not([data-state="running"]):not([data-state="idle"])').waitFor();
    return { state: (await result.getAttribute('data-state')) ?? '', text: await text(result) };
  }

  it('grants readwrite after an owner approves, and the credentials work until Revoke', async (t) => {
    const { page } = browser;
    t.diagnostic(`screenshots in ${shots}`);
    const requester = person(page, ada);
    const owner = person(page, grace);
    assert.match(await text(page.getByTestId('banner')), /127\.0\.0\.1/);

    await requester.getByTestId('composer').fill('/access sample/shop readwrite for 10m because the browser test fixes an order');
    await requester.getByTestId('composer-send').click();
    await requester
      .getByTestId('ephemeral')
      .getByText(/sent for approval/)
      .waitFor();
    await shot('1-requested');

    await owner.getByTestId('tab-channel').click();
    await actionButton(owner.getByTestId('channel'), 'sesame.approve:').click();
    await owner
      .getByTestId('channel')
      .getByText(/Approved by/)
      .waitFor();

    const grantButton = actionButton(requester.getByTestId('dm'), 'sesame.credentials:');
    await grantButton.waitFor();
    await shot('2-approved');
    await grantButton.click();
    const modal = requester.locator('[data-testid="modal"][data-callback-id="sesame.credentials"]');
    await modal.getByText('Connection URI').waitFor();
    await shot('3-credentials');

    await requester.getByTestId('sql-use-credentials').click();
    assert.match(await requester.getByTestId('sql-username').inputValue(), /\S/);
    assert.match(await requester.getByTestId('sql-password').inputValue(), /\S/);
    await requester.getByTestId('modal-close').click();
    await requester.getByTestId('modal-layer').waitFor({ state: 'hidden' });
    const granted = await runQuery(requester);
    assert.equal(granted.state, 'ok', granted.text);
    assert.match(granted.text, /Teapot/);
    await page.getByTestId('events').getByText(/grant/i).first().waitFor();
    await shot('4-granted-query');
    mkdirSync(join(DOCS_SCREENSHOT, '..'), { recursive: true });
    copyFileSync(join(shots, '4-granted-query.png'), DOCS_SCREENSHOT);

    await actionButton(requester.getByTestId('dm'), 'sesame.revoke:').click();
    await page.getByTestId('confirm-yes').click();
    await requester
      .getByTestId('dm')
      .getByText(/was revoked/)
      .waitFor();
    const refused = await runQuery(requester);
    await shot('5-revoked-query');
    assert.equal(refused.state, 'error', refused.text);
    assert.match(refused.text, /password authentication failed|not permitted to log in|does not exist|permission denied/i);

    await requester.getByTestId('tab-home').click();
    await requester.getByTestId('home').getByText('No active access', { exact: false }).waitFor();
    await shot('6-home');
    assert.deepEqual(browser.errors, []);
    walked = true;
  });
});
