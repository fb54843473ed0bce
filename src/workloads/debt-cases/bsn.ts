/**
 * Dutch citizen service numbers (BSN) and the 11-check (elfproef): for digits d1..d9,
 * 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 must be divisible by 11 (and the number is not all zeros).
 */
import type { Random } from '../../core/random.ts';

export function isValidBsn(bsn: string): boolean {
  if (!/^\d{9}$/.test(bsn) || bsn === '000000000') return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * (bsn.charCodeAt(i) - 48);
  sum -= bsn.charCodeAt(8) - 48;
  return sum % 11 === 0;
}

/**
 * A BSN that passes the 11-check. The first eight digits are drawn, the ninth is the one that makes the
 * weighted sum divisible by 11; when that would have to be 10, draw again (1 in 11 attempts).
 * The first digit is 1-6, like issued numbers (synthetic; any overlap with a real person is chance).
 */
export function randomBsn(rng: Random): string {
  for (;;) {
    const first = rng.int(1, 6);
    let value = first;
    let sum = 9 * first;
    for (let i = 1; i < 8; i++) {
      const d = rng.int(0, 9);
      value = value * 10 + d;
      sum += (9 - i) * d;
    }
    const check = sum % 11;
    if (check === 10) continue;
    return String(value * 10 + check); // nine digits: the first is 1-6
  }
}
