/** Numbers for people, shared by the summaries, the progress line and the error messages. */

/** `1,000,000` */
export const fmtCount = (v: number): string => Math.round(v).toLocaleString('en-US');

/** A rate for people: `100/s`, `1,500/s`, `1.67/s` (never `1.6666666666666667/s`). */
export function formatRate(perSec: number): string {
  if (Number.isInteger(perSec) || perSec >= 100) return `${fmtCount(perSec)}/s`;
  return `${Number(perSec.toPrecision(3))}/s`;
}
