import type { Machine } from '@sim/cpu';

/*
 * Byte-granular debug patterns over 64-bit memory words. A simulated word holds
 * an integer below 2^53, so it cannot carry eight arbitrary bytes. The rule:
 * a word equal to `patternWord(b)` (b in bytes 0-5, nothing above) stands for
 * eight bytes of b; any other word is read little-endian, bytes 0-5 from the
 * low 48 bits. In a word that mixes pattern bytes with other data, bytes 6 and
 * 7 are not modelled: checks skip them.
 */

const B6 = 0x010101010101;
const P48 = 2 ** 48;

/** The word standing for eight bytes of `b`. @internal */
export function patternWord(b: number): number {
  return b * B6;
}

/** Byte `i` (0-7) of `word` under the pattern rule. @internal */
export function byteOf(word: number, i: number): number {
  if (word % B6 === 0 && word < 256 * B6) return word / B6;
  if (i < 6) return Math.floor(word / 2 ** (8 * i)) % 256;
  if (i === 6) return Math.floor(word / P48) % 256;
  return 0;
}

function setLowByte(word: number, i: number, b: number): number {
  const scale = 2 ** (8 * i);
  const cur = Math.floor(word / scale) % 256;
  return word + (b - cur) * scale;
}

/**
 * Write byte `b` over `[addr, addr + len)` (charged to `site`): whole words
 * become pattern words, partly covered words get their low six bytes patched.
 * @internal
 */
export function fillBytes(m: Machine, addr: number, len: number, b: number, site: number): void {
  if (len <= 0) return;
  const end = addr + len;
  let a = addr;
  const pw = patternWord(b);
  while (a < end) {
    const w = a - (a % 8);
    const lo = a - w;
    const hi = Math.min(8, end - w);
    if (lo === 0 && hi === 8) {
      m.store(w, pw, site);
    } else {
      let word = m.load(w, site);
      for (let i = lo; i < hi && i < 6; i++) word = setLowByte(word, i, b);
      m.store(w, word, site);
    }
    a = w + hi;
  }
}

/**
 * First byte address in `[addr, addr + len)` that is not `b`, or -1. Models
 * `memchr_inv()`; unmodelled bytes never mismatch.
 * @internal
 */
export function firstMismatch(
  m: Machine,
  addr: number,
  len: number,
  b: number,
  site: number,
): number {
  const end = addr + len;
  let a = addr;
  const pw = patternWord(b);
  while (a < end) {
    const w = a - (a % 8);
    const lo = a - w;
    const hi = Math.min(8, end - w);
    const word = m.load(w, site);
    if (word !== pw) {
      const whole = lo === 0 && hi === 8;
      for (let i = lo; i < hi; i++) {
        if (!whole && i >= 6) break;
        if (byteOf(word, i) !== b) return w + i;
      }
      // A whole word that is not the pattern word differs in an unmodelled byte.
      if (whole) return w + 6;
    }
    a = w + hi;
  }
  return -1;
}

/**
 * One past the last byte in `[from, end)` that is not `b` (scanning backwards
 * from `end` as `check_bytes_and_report()` trims the fault range).
 * @internal
 */
export function trimEnd(m: Machine, from: number, end: number, b: number): number {
  let e = end;
  while (e > from) {
    const a = e - 1;
    const w = a - (a % 8);
    const word = m.memory.read(w);
    const i = a - w;
    if (word === patternWord(b)) {
      e = a;
      continue;
    }
    if (i >= 6 && !(w >= from && w + 8 <= end)) {
      e = a;
      continue;
    }
    if (byteOf(word, i) === b) {
      e = a;
      continue;
    }
    break;
  }
  return e;
}

/** The byte at `addr` under the pattern rule, uncharged (for dumps). @internal */
export function peekByte(m: Machine, addr: number): number {
  const w = addr - (addr % 8);
  return byteOf(m.memory.read(w), addr - w);
}
