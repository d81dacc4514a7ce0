/*
 * Log timestamps as PostgreSQL writes them: `2026-06-01 11:00:05 CEST` (`%t`, stderr) or with
 * milliseconds (`%m`, csvlog, jsonlog), in `log_timezone`, whose zone is written as its
 * abbreviation (`UTC`, `CEST`, `EDT`, `JST`) or, where the zone has none, as a numeric offset
 * (`+02`, `-03`, `+0530`; `+05:30` is accepted too).
 *
 * Abbreviations are read as PostgreSQL reads them by default (its "Default" set). Where the set
 * names an IANA zone instead of an offset, the offset of that zone at the line's time is used.
 * Where the server's `log_timezone` is known, it decides for abbreviations that mean different
 * offsets in different places (IST, CST, BST…) and for those the set does not know.
 */
import { AMBIGUOUS_ABBREVIATIONS, TIME_ZONE_ABBREVIATIONS } from './timeZoneAbbreviations.ts';

const NUMERIC_ZONE_RE = /^([+-])(\d{2})(?::?(\d{2}))?$/;

const formatters = new Map<string, Intl.DateTimeFormat | undefined>();

function formatter(timeZone: string): Intl.DateTimeFormat | undefined {
  if (!formatters.has(timeZone)) {
    try {
      const format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
      formatters.set(timeZone, format);
    } catch {
      formatters.set(timeZone, undefined);
    }
  }
  return formatters.get(timeZone);
}

/** The offset from UTC, in seconds, of an IANA zone at an instant; undefined for an unknown zone. */
export function zoneOffsetAt(timeZone: string, instantMs: number): number | undefined {
  const format = formatter(timeZone);
  if (!format) return undefined;
  const parts = Object.fromEntries(format.formatToParts(new Date(instantMs)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return Math.round((wall - Math.floor(instantMs / 1000) * 1000) / 1000);
}

/**
 * The offsets a zone may have at a wall-clock time (given as if it were UTC): one, or two in the
 * hour a clock goes back (the larger, daylight-saving one first), or none in the hour it skips.
 */
export function zoneOffsetsAtWallTime(timeZone: string, wallMs: number): number[] {
  const guesses = [-14, 0, 14].map((hours) => zoneOffsetAt(timeZone, wallMs + hours * 3_600_000));
  const found = new Set<number>();
  for (const guess of guesses) {
    if (guess !== undefined && zoneOffsetAt(timeZone, wallMs - guess * 1000) === guess) found.add(guess);
  }
  return [...found].sort((a, b) => b - a);
}

function numericOffset(zone: string): number | undefined {
  const match = NUMERIC_ZONE_RE.exec(zone);
  if (!match) return undefined;
  const seconds = Number(match[2]) * 3600 + Number(match[3] ?? 0) * 60;
  return match[1] === '-' ? -seconds : seconds;
}

/** The offset, in seconds, a zone as written stands for at a wall-clock time; undefined when unknown. */
export function zoneOffset(zone: string, wallMs: number, timeZone?: string): number | undefined {
  const numeric = numericOffset(zone);
  if (numeric !== undefined) return numeric;
  const name = zone.toUpperCase();
  const known = TIME_ZONE_ABBREVIATIONS.get(name);
  if (timeZone && (known === undefined || AMBIGUOUS_ABBREVIATIONS.has(name))) {
    const offsets = zoneOffsetsAtWallTime(timeZone, wallMs);
    if (typeof known === 'number' && offsets.includes(known)) return known;
    if (offsets.length > 0) return offsets[0];
  }
  if (typeof known === 'number') return known;
  return known === undefined ? undefined : zoneOffsetsAtWallTime(known, wallMs)[0];
}

/**
 * The instant of a log timestamp: date `YYYY-MM-DD`, time `HH:MM:SS[.fff]` and the zone as
 * written. Undefined when the text is no time or the zone cannot be resolved.
 */
export function logTime(date: string, time: string, zone: string, timeZone?: string): Date | undefined {
  const wallMs = Date.parse(`${date}T${time}Z`);
  if (Number.isNaN(wallMs)) return undefined;
  const offset = zoneOffset(zone, wallMs, timeZone);
  return offset === undefined ? undefined : new Date(wallMs - offset * 1000);
}

const TIMESTAMP_RE = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) (\S+)$/;

/** A whole timestamp as csvlog and jsonlog write it: `2026-06-01 09:00:05.123 CEST`. */
export function parseLogTimestamp(text: string, timeZone?: string): Date | undefined {
  const match = TIMESTAMP_RE.exec(text.trim());
  return match ? logTime(match[1]!, match[2]!, match[3]!, timeZone) : undefined;
}
