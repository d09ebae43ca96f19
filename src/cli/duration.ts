import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A Go-style duration flag ("500ms", "10s", "1m30s", "0") in milliseconds; commander argument parser. */
export function parseDuration(value: string): number {
  const text = value.trim();
  if (text === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new InvalidArgumentError(`"${value}" is not a duration (examples: 500ms, 10s, 1m30s)`);
  }
  return Math.round(parts.reduce((total, p) => total + Number(p[1]) * (UNITS[p[2] as string] as number), 0));
}
