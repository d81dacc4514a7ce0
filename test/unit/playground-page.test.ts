/**
 * The playground page's pure parts. Its mrkdwn: what Sesame writes is shown as Slack shows it,
 * and text from anyone never becomes HTML (only text nodes and elements the page makes itself).
 * Its reading of the credentials modal, as Sesame's builder lays it out.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentialsModal } from '../../src/adapters/slack/blocks/credentialsModal.ts';

const PAGE = fileURLToPath(new URL('../../src/playground/page/', import.meta.url));
const mrkdwn: any = await import(new URL('mrkdwn.js', `file://${PAGE}`).href);
const sql: any = await import(new URL('sql.js', `file://${PAGE}`).href);

/** Just enough of a DOM document to build into; setting HTML is an error. */
class FakeNode {
  children: FakeNode[] = [];
  attributes: Record<string, string> = {};
  className = '';
  text = '';
  constructor(readonly tag: string) {}
  appendChild(child: FakeNode) {
    if (child.tag === '#fragment') this.children.push(...child.children);
    else this.children.push(child);
    return child;
  }
  setAttribute(name: string, value: string) {
    this.attributes[name] = value;
  }
  set textContent(value: string) {
    this.text = value;
  }
  set innerHTML(_: string) {
    throw new Error('innerHTML was set');
  }
  set outerHTML(_: string) {
    throw new Error('outerHTML was set');
  }
  insertAdjacentHTML() {
    throw new Error('insertAdjacentHTML was called');
  }
}

const doc = {
  createDocumentFragment: () => new FakeNode('#fragment'),
  createElement: (tag: string) => new FakeNode(tag),
  createTextNode: (text: string) => Object.assign(new FakeNode('#text'), { text }),
};

/** The built tree as compact markup, text escaped: what a browser would show. */
function show(node: FakeNode): string {
  if (node.tag === '#text') return node.text.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
  const inner = node.text.replaceAll('&', '&amp;').replaceAll('<', '&lt;') + node.children.map(show).join('');
  if (node.tag === '#fragment') return inner;
  const attrs = Object.entries(node.attributes)
    .filter(([k]) => k === 'href')
    .map(([k, v]) => ` ${k}="${v}"`)
    .join('');
  return `<${node.tag}${node.className ? `.${node.className}` : ''}${attrs}>${inner}</${node.tag}>`;
}

const render = (text: string, names: Record<string, string> = {}) => show(mrkdwn.renderMrkdwn(doc, text, names));

describe('playground page: mrkdwn', () => {
  it('renders bold, italic, strike, code and code blocks', () => {
    assert.equal(render('*Access granted* · _soon_ ~old~'), '<strong>Access granted</strong> · <em>soon</em> <s>old</s>');
    assert.equal(render('user `sesame_alice`'), 'user <code.mk-code>sesame_alice</code>');
    assert.equal(render('*URI*\n```postgresql://a:b@h/db```'), '<strong>URI</strong><br></br><pre.mk-pre>postgresql://a:b@h/db</pre>');
    assert.equal(render('`*not bold*`'), '<code.mk-code>*not bold*</code>');
    assert.equal(render('snake_case_name and 2*3*4'), 'snake_case_name and 2*3*4');
  });

  it('shows mentions by name, links with their label, dates, quotes and known emoji', () => {
    assert.equal(render('<@U1> asks', { U1: 'Alice' }), '<span.mk-mention>@Alice</span> asks');
    assert.equal(render('<@U9>'), '<span.mk-mention>@U9</span>');
    assert.equal(
      render('see <https://example.com/x?a=1&amp;b=2|*the docs*>'),
      'see <a href="https://example.com/x?a=1&b=2"><strong>the docs</strong></a>',
    );
    assert.match(
      render('<!date^1772366400^{date_short_pretty} at {time}|2026-03-01T12:00:00.000Z>'),
      /<span\.mk-date>.+ at \d\d:\d\d<\/span>/,
    );
    assert.equal(render('<!date^1772366400^{weird}|fallback>'), '<span.mk-date>fallback</span>');
    assert.equal(
      render('*Reason*\n>line one\n>line two\nafter'),
      '<strong>Reason</strong><blockquote>line one<br></br>line two</blockquote>after',
    );
    assert.equal(render(':unlock: :not_an_emoji:'), '<span.mk-emoji>🔓</span> :not_an_emoji:');
  });

  it('never turns text into HTML or unsafe links', () => {
    assert.equal(render('&lt;img src=x onerror=alert(1)&gt; &amp;'), '&lt;img src=x onerror=alert(1)> &amp;');
    assert.equal(render('<script>alert(1)</script>'), '&lt;script>alert(1)&lt;/script>');
    assert.equal(render('<javascript:alert(1)|click>'), 'click');
    assert.equal(render('`<b>&amp;</b>`'), '<code.mk-code>&lt;b>&amp;&lt;/b></code>');
    assert.equal(render('```<i>x</i>```'), '<pre.mk-pre>&lt;i>x&lt;/i></pre>');
  });

  it('the page sources never set HTML from strings', () => {
    for (const file of readdirSync(PAGE).filter((f) => f.endsWith('.js'))) {
      const source = readFileSync(`${PAGE}${file}`, 'utf8');
      assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, file);
    }
  });
});

describe('playground page: the credentials modal', () => {
  const base = {
    requestId: 'R7K3QX2',
    host: '127.0.0.1',
    port: 5432,
    database: 'shop',
    username: 'ada@example.com',
    sslMode: 'disable',
    uri: 'postgresql://ada%40example.com:a%26%3Cb%3E@127.0.0.1:5432/shop?sslmode=disable',
    expiresAt: new Date('2026-03-01T12:00:00Z'),
  };

  it('reads the user, password and database as the builder lays them out, unescaped', () => {
    const view = credentialsModal({ ...base, password: 'a&<b>`c' });
    assert.deepEqual(sql.readCredentials(view), {
      username: 'ada@example.com',
      password: 'a&<b>`c',
      database: 'shop',
      host: '127.0.0.1',
      port: '5432',
    });
  });

  it('takes the password from the URI when no field carries it, and reads no other modal', () => {
    const view = credentialsModal(base);
    assert.equal(sql.readCredentials(view).password, 'a&<b>');
    assert.equal(sql.readCredentials({ ...view, callback_id: 'sesame.extend' }), null);
  });
});
