/**
 * The awsQuery protocol as RDS speaks it: requests are form-encoded with lists flattened into
 * numbered keys (`Filters.Filter.1.Values.Value.2=…`), responses are XML documents named after
 * the action. Only what a server needs: reading the form, writing the XML.
 */

/** A request parameter once the numbered keys are folded back: a string, a list or a structure. */
export type QueryValue = string | QueryValue[] | QueryStructure;
export interface QueryStructure {
  [name: string]: QueryValue;
}

type Node = { [key: string]: Node | string };

function isIndex(segment: string): boolean {
  return /^[1-9]\d*$/.test(segment);
}

/** A wrapper that holds nothing but a list (`Filters` around `Filter.N`) stands for the list. */
function unwrapList(value: QueryValue): QueryValue {
  if (typeof value !== 'object' || Array.isArray(value)) return value;
  const members = Object.values(value);
  return members.length === 1 && Array.isArray(members[0]) ? members[0] : value;
}

/** Numbered members become arrays, in their numbers' order. */
function fold(node: Node | string): QueryValue {
  if (typeof node === 'string') return node;
  const keys = Object.keys(node);
  if (keys.length > 0 && keys.every(isIndex)) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => fold(node[k]!));
  }
  const out: QueryStructure = {};
  for (const key of keys) out[key] = unwrapList(fold(node[key]!));
  return out;
}

/**
 * Reads an awsQuery form body into its parameters, lists folded back:
 * `Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=postgres` gives
 * `{ Filters: [{ Name: 'engine', Values: ['postgres'] }] }`. `Action` and `Version` stay in.
 */
export function parseQueryForm(body: string): QueryStructure {
  const root: Node = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split('.');
    let node = root;
    for (const segment of path.slice(0, -1)) {
      const next = node[segment];
      if (typeof next === 'object') node = next;
      else node = node[segment] = {};
    }
    node[path[path.length - 1]!] = value;
  }
  return fold(root) as QueryStructure;
}

/** A string parameter, or undefined when absent or not a string. */
export function stringParam(params: QueryStructure, name: string): string | undefined {
  const value = params[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Escapes text for an XML element. Carriage returns travel as `&#13;` because XML parsers turn a
 * literal CR LF into LF, and log files are returned byte for byte.
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : c === "'" ? '&apos;' : '&#13;',
  );
}

/**
 * One XML element: text content for a scalar, the given child elements for an array. An undefined
 * value writes nothing at all, as AWS leaves out members that have no value.
 */
export function xmlElement(name: string, content: string | number | boolean | Date | string[] | undefined): string {
  if (content === undefined) return '';
  if (Array.isArray(content)) return `<${name}>${content.join('')}</${name}>`;
  const text = content instanceof Date ? content.toISOString() : String(content);
  return `<${name}>${escapeXml(text)}</${name}>`;
}

/** A list in awsQuery's wrapped form: `<Wrapper><Member>…</Member><Member>…</Member></Wrapper>`. */
export function xmlList<T>(wrapper: string, items: readonly T[], render: (item: T) => string): string {
  return xmlElement(wrapper, items.map(render));
}

/** The namespace RDS's 2014-10-31 API answers in. */
export const RDS_XML_NAMESPACE = 'http://rds.amazonaws.com/doc/2014-10-31/';

/** A successful awsQuery response: `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`. */
export function queryResponse(action: string, result: string[], requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<${action}Response xmlns="${RDS_XML_NAMESPACE}">` +
    xmlElement(`${action}Result`, result) +
    xmlElement('ResponseMetadata', [xmlElement('RequestId', requestId)]) +
    `</${action}Response>\n`
  );
}

/** An awsQuery error: `Sender` for the caller's faults (4xx), `Receiver` for the service's own. */
export function queryErrorResponse(status: number, code: string, message: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<ErrorResponse xmlns="${RDS_XML_NAMESPACE}">` +
    xmlElement('Error', [
      xmlElement('Type', status >= 500 ? 'Receiver' : 'Sender'),
      xmlElement('Code', code),
      xmlElement('Message', message),
    ]) +
    xmlElement('RequestId', requestId) +
    `</ErrorResponse>\n`
  );
}
