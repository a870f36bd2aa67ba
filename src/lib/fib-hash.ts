/**
 * Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4) for the open-addressing tables of typed arrays
 * (net/l4-ids.ts, lib/address-tally.ts, packet/flow/key-tally.ts, flows/top.ts): a key times a
 * constant near 2^32/φ, the top bits of the 32-bit product being the key's home slot.
 */

/** 2 654 435 761, the prime nearest 2^32/φ */
const MULTIPLIER = 0x9e3779b1;

/** the home slot of a 32-bit `key` in a table of 2^(32 - shift) slots */
export const fibHome = (key: number, shift: number): number => Math.imul(key, MULTIPLIER) >>> shift;

/** hash `h` with the 32-bit word `word` mixed in (keys of several words; start from 0) */
export const fibMix = (h: number, word: number): number => Math.imul(h ^ word, MULTIPLIER);
