import { InputError } from './errors.ts';

const UNIT_MINUTES = { w: 7 * 24 * 60, d: 24 * 60, h: 60, m: 1 } as const;
const DURATION_RE = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/;

/**
 * Parses a duration written like `15m`, `2h`, `1d`, `1h30m` or `1w` into whole minutes.
 * Units must come largest first and each at most once. Zero, negative or malformed durations are
 * an {@link InputError} that shows the accepted forms.
 */
export function parseDurationMinutes(text: string): number {
  const trimmed = text.trim().toLowerCase();
  const m = DURATION_RE.exec(trimmed);
  if (!trimmed || !m) {
    throw new InputError(`"${truncate(text)}" is not a duration. Write it like 15m, 2h, 1d or 1h30m.`, { field: 'duration' });
  }
  const [, w, d, h, min] = m;
  const minutes =
    Number(w ?? 0) * UNIT_MINUTES.w + Number(d ?? 0) * UNIT_MINUTES.d + Number(h ?? 0) * UNIT_MINUTES.h + Number(min ?? 0) * UNIT_MINUTES.m;
  if (!Number.isSafeInteger(minutes) || minutes <= 0) {
    throw new InputError(`A duration must be longer than zero; "${truncate(text)}" is not.`, { field: 'duration' });
  }
  return minutes;
}

/** Formats minutes the way people write them: `90` → `1h30m`, `1440` → `1d`. */
export function formatMinutes(totalMinutes: number): string {
  let rest = Math.max(0, Math.round(totalMinutes));
  if (rest === 0) return '0m';
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', UNIT_MINUTES.d],
    ['h', UNIT_MINUTES.h],
    ['m', UNIT_MINUTES.m],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
