/**
 * Slack's mrkdwn, parsed into a small tree and built into DOM nodes. Text from the bot never
 * becomes HTML: every piece ends up in a text node or an element made with createElement, and
 * links keep only http(s) and mailto addresses.
 */

/** The shortcodes Sesame writes, shown as the emoji Slack shows for them. Others stay as text. */
export const EMOJI = {
  key: '🔑',
  hourglass_flowing_sand: '⏳',
  hourglass: '⌛',
  white_check_mark: '✅',
  gear: '⚙️',
  unlock: '🔓',
  lock: '🔒',
  no_entry: '⛔',
  heavy_multiplication_x: '✖️',
  alarm_clock: '⏰',
  warning: '⚠️',
  x: '❌',
  wave: '👋',
  tada: '🎉',
  information_source: 'ℹ️',
  bust_in_silhouette: '👤',
  busts_in_silhouette: '👥',
  eyes: '👀',
  rotating_light: '🚨',
  no_entry_sign: '🚫',
  heavy_check_mark: '✔️',
  clock1: '🕐',
  stopwatch: '⏱️',
  memo: '📝',
  mag: '🔍',
};

/** Turns `&lt;`, `&gt;` and `&amp;` (all Slack escapes) back into characters. */
export function decodeEntities(text) {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

/** Replaces known `:shortcodes:` in plain text with their emoji. */
export function emojify(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] ?? whole);
}

/**
 * Parses mrkdwn into nodes: `{ t: 'text', v }`, `{ t: 'b' | 'i' | 's' | 'quote', c: [...] }`,
 * `{ t: 'code', v }`, `{ t: 'pre', v }`, `{ t: 'link', href, c }`, `{ t: 'mention', id }`,
 * `{ t: 'channel', v }`, `{ t: 'date', unix, format, fallback }`, `{ t: 'emoji', v, name }`, `{ t: 'br' }`.
 */
export function parseMrkdwn(text) {
  const out = [];
  const parts = String(text ?? '').split(/```/);
  parts.forEach((part, index) => {
    // Odd pieces sit between fences; an unclosed fence is shown as it was typed.
    if (index % 2 === 1 && index < parts.length - 1) {
      out.push({ t: 'pre', v: decodeEntities(part.replace(/^\n/, '').replace(/\n$/, '')) });
    } else {
      const piece = index % 2 === 1 ? `\`\`\`${part}` : part;
      out.push(...parseLines(piece));
    }
  });
  return out;
}

function parseLines(text) {
  const out = [];
  const lines = text.split('\n');
  let quote = null;
  lines.forEach((line, index) => {
    const quoted = /^(>|&gt;)/.exec(line);
    if (quoted) {
      if (!quote) {
        quote = { t: 'quote', c: [] };
        out.push(quote);
      } else {
        quote.c.push({ t: 'br' });
      }
      quote.c.push(...parseInline(line.slice(quoted[0].length)));
      return;
    }
    const afterQuote = quote !== null;
    quote = null;
    if (index > 0 && !afterQuote) out.push({ t: 'br' });
    out.push(...parseInline(line));
  });
  return out;
}

/** Inline forms, tried at each position; the earliest match wins. */
const INLINE = [
  { t: 'code', re: /`([^`\n]+)`/ },
  { t: 'angle', re: /<([^<>\n]+)>/ },
  { t: 'b', re: /(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/ },
  { t: 'i', re: /(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/ },
  { t: 's', re: /(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])/ },
  { t: 'emoji', re: /:([a-z0-9_+-]+):/ },
];

export function parseInline(text) {
  const out = [];
  let rest = text;
  while (rest.length > 0) {
    let best = null;
    for (const form of INLINE) {
      const m = form.re.exec(rest);
      if (!m) continue;
      // Emphasis matches include the character before the delimiter; it stays text.
      const lead = form.t === 'b' || form.t === 'i' || form.t === 's' ? m[1].length : 0;
      const start = m.index + lead;
      if (best === null || start < best.start) best = { form, m, start, end: m.index + m[0].length };
    }
    if (!best) {
      out.push({ t: 'text', v: decodeEntities(rest) });
      break;
    }
    if (best.start > 0) out.push({ t: 'text', v: decodeEntities(rest.slice(0, best.start)) });
    out.push(inlineNode(best.form.t, best.m));
    rest = rest.slice(best.end);
  }
  return out;
}

function inlineNode(kind, m) {
  switch (kind) {
    case 'code':
      return { t: 'code', v: decodeEntities(m[1]) };
    case 'angle':
      return angleNode(m[1]);
    case 'emoji':
      return EMOJI[m[1]] ? { t: 'emoji', v: EMOJI[m[1]], name: m[1] } : { t: 'text', v: m[0] };
    default:
      return { t: kind, c: parseInline(m[2]) };
  }
}

/** `<@U1>`, `<#C1|name>`, `<!here>`, `<!date^…|fallback>`, `<url|label>` and `<url>`. */
function angleNode(inner) {
  const bar = inner.indexOf('|');
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? null : inner.slice(bar + 1);
  if (target.startsWith('@')) return { t: 'mention', id: target.slice(1) };
  if (target.startsWith('#')) return { t: 'channel', v: label ?? target.slice(1) };
  if (target.startsWith('!date^')) {
    const [, unix, format] = target.split('^');
    return { t: 'date', unix: Number(unix), format: format ?? '', fallback: decodeEntities(label ?? '') };
  }
  if (target.startsWith('!')) return { t: 'mention', id: null, v: `@${label ?? target.slice(1).split('^')[0]}` };
  const href = decodeEntities(target);
  const safe = /^(https?:|mailto:)/i.test(href);
  const c = label === null ? [{ t: 'text', v: href }] : parseInline(label);
  // Anything else is shown as written: a label alone, or the brackets and all.
  return safe ? { t: 'link', href, c } : { t: 'text', v: decodeEntities(label ?? `<${inner}>`) };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Slack's date tokens, in the reader's time zone; unknown tokens fall back to the ISO text. */
export function formatSlackDate(unix, format, now = new Date()) {
  const d = new Date(unix * 1000);
  if (Number.isNaN(d.getTime())) return null;
  const pad = (n) => String(n).padStart(2, '0');
  const day = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const diff = Math.round((day(d) - day(now)) / 86_400_000);
  const short = `${MONTHS[d.getMonth()]} ${d.getDate()}${d.getFullYear() === now.getFullYear() ? '' : `, ${d.getFullYear()}`}`;
  const pretty = diff === 0 ? 'today' : diff === 1 ? 'tomorrow' : diff === -1 ? 'yesterday' : short;
  const tokens = {
    date_short_pretty: pretty,
    date_long_pretty: pretty,
    date_pretty: pretty,
    date_short: short,
    date: short,
    date_long: short,
    date_num: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
    time: `${pad(d.getHours())}:${pad(d.getMinutes())}`,
    time_secs: `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
  };
  let unknown = false;
  const text = format.replace(/\{(\w+)\}/g, (_, token) => {
    if (token in tokens) return tokens[token];
    unknown = true;
    return '';
  });
  return unknown ? null : text;
}

/**
 * Builds the nodes of `text` into a fragment of `doc`. `names` maps Slack user IDs to the names
 * shown for mentions.
 */
export function renderMrkdwn(doc, text, names = {}) {
  const fragment = doc.createDocumentFragment();
  for (const node of parseMrkdwn(text)) fragment.appendChild(build(doc, node, names));
  return fragment;
}

function build(doc, node, names) {
  const el = (tag, className, children) => {
    const e = doc.createElement(tag);
    if (className) e.className = className;
    for (const child of children ?? []) e.appendChild(build(doc, child, names));
    return e;
  };
  switch (node.t) {
    case 'text':
      return doc.createTextNode(node.v);
    case 'br':
      return doc.createElement('br');
    case 'b':
      return el('strong', null, node.c);
    case 'i':
      return el('em', null, node.c);
    case 's':
      return el('s', null, node.c);
    case 'quote':
      return el('blockquote', null, node.c);
    case 'link': {
      const a = el('a', null, node.c);
      a.setAttribute('href', node.href);
      a.setAttribute('target', '_blank');
      a.setAttribute('rel', 'noopener noreferrer');
      return a;
    }
    default:
      return leaf(doc, node, names);
  }
}

function leaf(doc, node, names) {
  const span = (className, text, tag = 'span') => {
    const e = doc.createElement(tag);
    e.className = className;
    e.textContent = text;
    return e;
  };
  switch (node.t) {
    case 'code':
      return span('mk-code', node.v, 'code');
    case 'pre':
      return span('mk-pre', node.v, 'pre');
    case 'mention':
      return span('mk-mention', node.id === null ? node.v : `@${names[node.id] ?? node.id}`);
    case 'channel':
      return span('mk-mention', `#${node.v}`);
    case 'date': {
      const e = span('mk-date', formatSlackDate(node.unix, node.format) ?? node.fallback);
      if (node.fallback) e.setAttribute('title', node.fallback);
      return e;
    }
    case 'emoji': {
      const e = span('mk-emoji', node.v);
      e.setAttribute('title', `:${node.name}:`);
      return e;
    }
    default:
      return doc.createTextNode('');
  }
}
