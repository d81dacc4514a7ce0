/**
 * Slack's Web API wire format as the stand-in reads it: `POST {apiUrl}{method}` with a
 * form-encoded or JSON body (a form carries `blocks`, `view`, … as JSON strings), plus query
 * arguments.
 */
import type { IncomingMessage } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { type Args, isObject, JSON_ARGUMENTS } from './standInModel.ts';

export function parseArgs(raw: string, contentType: string | undefined, query: URLSearchParams): Args {
  const args: Args = Object.fromEntries(query.entries());
  if (raw.length === 0) return args;
  if (contentType?.startsWith('application/json')) {
    const body: unknown = JSON.parse(raw);
    if (isObject(body)) Object.assign(args, body);
    return args;
  }
  for (const [key, value] of Object.entries(parseQuery(raw))) args[key] = Array.isArray(value) ? value[0] : value;
  for (const key of JSON_ARGUMENTS) {
    const value = args[key];
    if (typeof value !== 'string') continue;
    try {
      args[key] = JSON.parse(value);
    } catch {
      // Kept as the string it is: the method answers it with Slack's "not valid JSON" error.
    }
  }
  return args;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
