/** Token categories for colouring: special, punctuation, number, subword, word. */

export const CATEGORIES = ['word', 'subword', 'punctuation', 'number', 'special'] as const;
export type Category = (typeof CATEGORIES)[number];

const PUNCTUATION = /^[\p{P}\p{S}]+$/u;
const NUMBER = /^[\d.,]+$/;

/** Category index (into CATEGORIES) of one token. `raw` is the tokenizer's piece, if known. */
export function tokenCategory(text: string, raw: string | undefined, special: boolean): number {
  if (special) return CATEGORIES.indexOf('special');
  const trimmed = text.trim();
  if (trimmed && PUNCTUATION.test(trimmed)) return CATEGORIES.indexOf('punctuation');
  if (trimmed && NUMBER.test(trimmed)) return CATEGORIES.indexOf('number');
  if (raw !== undefined && raw.startsWith('##')) return CATEGORIES.indexOf('subword');
  return CATEGORIES.indexOf('word');
}
