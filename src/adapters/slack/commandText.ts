import { BUNDLE_NAME_RE } from '../../domain/bundle.ts';
import { parseDurationMinutes } from '../../domain/duration.ts';
import { InputError } from '../../domain/errors.ts';
import { parsePermission, PERMISSION_USAGE, type Permission } from '../../domain/permission.ts';
import { normalizeRequestId } from '../../domain/request.ts';
import { TARGET_USAGE, validateTarget, type Target } from '../../domain/target.ts';

/** What a person asked for with the slash command. */
export type ParsedCommand =
  | { kind: 'modal' }
  | { kind: 'help' }
  /** `all` undefined: everyone's to admins, one's own to others. */
  | { kind: 'list'; all?: boolean; page?: number }
  | { kind: 'revoke'; requestId: string }
  | { kind: 'cancel'; requestId: string }
  | { kind: 'extend'; requestId: string; durationMinutes: number }
  | ({ kind: 'request' } & RequestWords)
  /** `grant <person> <target> <permission>…`: a request filed for someone else. */
  | ({ kind: 'grant'; person: PersonRef } & Omit<RequestWords, 'breakGlass'>);

/** What a request says, after its verb. */
export interface RequestWords {
  /** In the order typed: targets with their permission, and bundle names. */
  parts: CommandPart[];
  durationMinutes?: number;
  reason?: string;
  /** `break-glass …`: emergency access under a breakGlass flow. */
  breakGlass?: boolean;
}

/** Who a request filed for someone else is for: their Slack ID, or their email. */
export type PersonRef = { slackId: string } | { email: string };

/** One comma-separated item of a request: a target and its permission, or a bundle's name. */
export type CommandPart = { target: Target; permission: Permission } | { bundle: string };

/** The usage lines of the command, for help and for every answer to bad input. */
export function commandUsage(command: string): string[] {
  return [
    `\`${command}\` opens the request form`,
    `\`${command} help\` shows this and the access you can ask for`,
    `\`${command} [request] <target> <permission> [for <duration>] [because <reason…>]\``,
    `\`${command} request <target> <permission>, <target> <permission>… [for <duration>] [because <reason…>]\` asks for several at once; a bundle's name stands for its targets`,
    `\`${command} grant <person> <target> <permission> [for <duration>] [because <reason…>]\` asks for someone else (admins, and those who could approve it; their flows still apply), the person by email or member ID`,
    `\`${command} break-glass <target> <permission> for <duration> because <reason…>\` grants emergency access at once, under a break-glass flow, for review afterwards`,
    `\`${command} list\` shows your requests and active grants (admins: everyone's; \`list mine\` for your own; \`list 2\`, \`list all 2\` the next page)`,
    `\`${command} revoke <request-id>\` ends access now`,
    `\`${command} extend <request-id> <duration>\` asks for more time`,
    `\`${command} cancel <request-id>\` withdraws a pending request`,
    `Targets are written ${TARGET_USAGE}; a name with spaces, quotes or semicolons goes in double quotes, e.g. \`prod/app/"Odd;Name"\`.`,
    `Permissions: ${PERMISSION_USAGE}. Durations: 15m, 2h, 1d, 1h30m.`,
  ];
}

/** Quotes some Slack clients substitute for the straight ones people type. */
const CURLY_QUOTES = /[\u201c\u201d\u201e\u201f\u2033]/g;

/**
 * Parses the text after the slash command (PRODUCT.md §6). Pure: nothing is looked up. Anything
 * that is not one of the forms is an {@link InputError} saying what was wrong; the edge adds the
 * usage.
 */
export function parseCommandText(raw: string): ParsedCommand {
  const text = raw.replace(CURLY_QUOTES, '"').trim();
  if (!text) return { kind: 'modal' };
  const words = splitWords(text);
  const [first, ...rest] = words;
  const verb = first!.text.toLowerCase();
  switch (verb) {
    case 'help':
      expectNothingAfter(rest, 'help');
      return { kind: 'help' };
    case 'list':
      return parseList(rest.map((w) => w.text));
    case 'revoke':
    case 'cancel': {
      const requestId = requestIdFrom(rest[0]?.text, verb);
      expectNothingAfter(rest.slice(1), `${verb} <request-id>`);
      return { kind: verb, requestId };
    }
    case 'extend': {
      const requestId = requestIdFrom(rest[0]?.text, 'extend');
      if (!rest[1]) throw new InputError('Say how much longer, e.g. `extend R7K3QX2 1h`.');
      expectNothingAfter(rest.slice(2), 'extend <request-id> <duration>');
      return { kind: 'extend', requestId, durationMinutes: parseDurationMinutes(rest[1].text) };
    }
    case 'request':
      if (rest.length === 0) {
        throw new InputError('`request` needs a target and a permission, e.g. `request prod/app readonly for 1h because …`.');
      }
      return parseRequest(rest, text);
    case 'grant': {
      const person = personFrom(rest[0]?.text);
      if (rest.length < 2) {
        throw new InputError(
          '`grant` needs a person, a target and a permission, e.g. `grant alice@example.com prod/app readonly for 1h because …`.',
        );
      }
      const { kind: _, breakGlass, ...request } = parseRequest(rest.slice(1), text);
      return { kind: 'grant', person, ...request };
    }
    case 'break-glass':
    case 'breakglass':
      if (rest.length === 0) {
        throw new InputError(
          '`break-glass` needs a target, a permission and a reason, e.g. `break-glass prod/app readwrite for 1h because INC-42`.',
        );
      }
      return { ...parseRequest(rest, text), breakGlass: true };
    default:
      return parseRequest(words, text);
  }
}

/**
 * The request form's "More targets": one `<target> <permission>` (or a bundle's name) per line,
 * commas allowed too. Durations and reasons belong to the form's own fields, not here.
 */
export function parsePartLines(raw: string): CommandPart[] {
  const parts: CommandPart[] = [];
  raw
    .replace(CURLY_QUOTES, '"')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const parsed = parseRequest(splitWords(line), line);
        if (parsed.durationMinutes !== undefined || parsed.reason !== undefined) {
          throw new InputError('a duration or a reason goes in its own field below, not here.');
        }
        parts.push(...parsed.parts);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        throw new InputError(`Line ${i + 1}: ${err.message}`);
      }
    });
  return parts;
}

interface Word {
  text: string;
  /** Offset of the word's first character in the text (to take the reason verbatim). */
  start: number;
}

/**
 * Splits on whitespace outside double quotes; a comma outside quotes is a word of its own (it
 * separates the targets of a request). Quotes stay in the word: the target parser needs them to
 * tell `"a/b"` (one name) from `a/b` (two parts).
 */
function splitWords(text: string): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    if (text[i] === ',') {
      words.push({ text: ',', start: i++ });
      continue;
    }
    const start = i;
    let inQuotes = false;
    while (i < text.length && (inQuotes || !/[\s,]/.test(text[i]!))) {
      if (text[i] === '"') inQuotes = !inQuotes;
      i++;
    }
    words.push({ text: text.slice(start, i), start });
  }
  return words;
}

const isKeyword = (word: Word | undefined) => word !== undefined && ['for', 'because'].includes(word.text.toLowerCase());

/**
 * `<target> <permission>` or `<bundle>`, comma-separated, then `for <duration>` and `because
 * <reason…>` for all of them. A word with no permission after it is a bundle's name, which the
 * edge looks up; a target (with `/` or quotes) always needs its permission.
 */
function parseRequest(words: Word[], text: string): Extract<ParsedCommand, { kind: 'request' }> {
  const parts: CommandPart[] = [];
  let at = 0;
  for (;;) {
    const first = words[at];
    if (!first || first.text === ',' || isKeyword(first)) {
      throw new InputError(
        'Each comma needs a target and a permission (or a bundle) on both sides, e.g. `prod/app readonly, analytics/events readwrite for 2h`.',
      );
    }
    const next = words[at + 1];
    if (!next || next.text === ',' || isKeyword(next)) {
      if (!BUNDLE_NAME_RE.test(first.text)) {
        parseQuotedTarget(first.text); // a malformed target is told as such
        throw new InputError(`Say which permission you need on ${first.text}: ${PERMISSION_USAGE}.`);
      }
      parts.push({ bundle: first.text });
      at += 1;
    } else {
      parts.push({ target: parseQuotedTarget(first.text), permission: parsePermission(next.text) });
      at += 2;
    }
    if (words[at]?.text !== ',') break;
    at += 1;
  }
  const rest = words.slice(at);
  let durationMinutes: number | undefined;
  let reason: string | undefined;
  let i = 0;
  if (rest[i]?.text.toLowerCase() === 'for') {
    const duration = rest[i + 1];
    if (!duration) throw new InputError('`for` needs a duration after it, e.g. `for 2h`.');
    durationMinutes = parseDurationMinutes(duration.text);
    i += 2;
  }
  if (rest[i]?.text.toLowerCase() === 'because') {
    const after = rest[i + 1];
    if (!after) throw new InputError('`because` needs a reason after it.');
    // The reason is taken as typed, quotes and spacing included.
    reason = text.slice(after.start).trim();
    i = rest.length;
  }
  if (i < rest.length) {
    throw new InputError(
      `I did not understand "${shorten(rest[i]!.text)}". After the permission come a comma and another target, or \`for <duration>\` and then \`because <reason…>\`.`,
    );
  }
  return {
    kind: 'request',
    parts,
    ...(durationMinutes !== undefined ? { durationMinutes } : {}),
    ...(reason !== undefined ? { reason } : {}),
  };
}

/**
 * Parses a target whose parts may be double-quoted (`prod/app/"Odd;Name"`, with `""` for a
 * quote inside). Quotes and semicolons are legal in PostgreSQL names, so a quoted part keeps
 * them (the engine quotes every identifier); outside quotes they are refused, because there
 * they are far more likely a mistake, or an attempt at SQL, than a name.
 */
export function parseQuotedTarget(text: string): Target {
  const parts: string[] = [];
  let current = '';
  let partQuoted = false;
  let i = 0;
  while (i <= text.length) {
    const ch = text[i];
    if (ch === undefined || ch === '/') {
      if (current.length === 0 && !partQuoted) {
        throw new InputError(`"${shorten(text)}" has an empty part. Write the target as ${TARGET_USAGE}.`);
      }
      parts.push(current);
      current = '';
      partQuoted = false;
      i++;
      continue;
    }
    if (ch === '"') {
      if (current.length > 0 || partQuoted) {
        throw new InputError(
          `"${shorten(text)}" has a quote inside a name. Put the whole name in double quotes, with "" for a quote inside it.`,
        );
      }
      const end = closingQuote(text, i + 1);
      if (end < 0) throw new InputError(`"${shorten(text)}" has a quote that is never closed.`);
      current = text.slice(i + 1, end).replaceAll('""', '"');
      partQuoted = true;
      i = end + 1;
      if (i < text.length && text[i] !== '/') {
        throw new InputError(`"${shorten(text)}" has text right after a closing quote; separate parts with /.`);
      }
      continue;
    }
    if (ch === ';') {
      throw new InputError(`"${shorten(text)}" contains a semicolon. If a name really has one, put that name in double quotes.`);
    }
    current += ch;
    i++;
  }
  if (parts.length > 4) {
    throw new InputError(`"${shorten(text)}" has ${parts.length} parts; a target has at most four: ${TARGET_USAGE}.`);
  }
  const [integration, database, schema, table] = parts as [string, ...string[]];
  return validateTarget({ integration, database, schema, table });
}

/** Index of the quote closing a quoted name that starts at `from`; `""` is an escaped quote. */
function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] !== '"') continue;
    if (text[i + 1] === '"') {
      i++;
      continue;
    }
    return i;
  }
  return -1;
}

/**
 * The person `grant` is for: a mention as Slack escapes it (`<@U0123ABC>`, `<@U0123ABC|alice>`),
 * a member ID (`U0123ABC`) or an email. A plain `@name` says nobody for sure (display names are
 * neither unique nor stable), so it is refused with the forms that do.
 */
function personFrom(word: string | undefined): PersonRef {
  const forms = 'their email (alice@example.com) or their member ID (U0123ABC, from their profile: ⋮ → Copy member ID)';
  if (!word) throw new InputError(`\`grant\` needs the person first: ${forms}.`);
  const mention = /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$/.exec(word);
  if (mention) return { slackId: mention[1]! };
  if (/^[UW][A-Z0-9]{4,}$/.test(word)) return { slackId: word };
  if (/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(word)) return { email: word.toLowerCase() };
  if (word.startsWith('@')) {
    throw new InputError(
      `Slack sent "${shorten(word)}" as plain text, which does not say who it is for sure. Name the person by ${forms}.`,
    );
  }
  throw new InputError(`"${shorten(word)}" is not a person. Name them by ${forms}.`);
}

function requestIdFrom(word: string | undefined, verb: string): string {
  if (!word) throw new InputError(`\`${verb}\` needs a request ID, e.g. \`${verb} R7K3QX2\`. \`list\` shows yours.`);
  const id = normalizeRequestId(word);
  if (!id) throw new InputError(`"${shorten(word)}" is not a request ID; they look like R7K3QX2. \`list\` shows yours.`);
  return id;
}

function expectNothingAfter(rest: Word[], form: string): void {
  if (rest.length > 0) {
    throw new InputError(`\`${form}\` takes nothing more, but got "${shorten(rest.map((w) => w.text).join(' '))}".`);
  }
}

function shorten(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** `list`, `list mine`, `list all`, each with an optional page number after it. */
function parseList(words: readonly string[]): ParsedCommand {
  const [first, second, ...more] = words.map((w) => w.toLowerCase());
  const which = first === 'all' ? { all: true } : first === 'mine' ? { all: false } : undefined;
  const pageWord = which ? second : first;
  const page = pageWord === undefined ? undefined : /^[1-9]\d{0,5}$/.test(pageWord) ? Number(pageWord) : Number.NaN;
  if (Number.isNaN(page) || more.length > 0 || (!which && second !== undefined)) {
    throw new InputError(
      `\`list\` takes nothing, \`mine\` or \`all\`, then a page number if you like (\`list 2\`), not "${shorten(words.join(' '))}".`,
    );
  }
  return { kind: 'list', ...which, ...(page !== undefined && page > 1 ? { page } : {}) };
}
