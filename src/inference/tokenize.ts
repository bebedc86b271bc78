/**
 * Tokenization from a local tokenizer.json with @huggingface/tokenizers (pure JS, no
 * network, no WASM): the same ids as the Python `tokenizers` library, plus truncation to the
 * model's maximum the way Python's `truncation=True` does it (special tokens kept, the
 * text in between cut).
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { EncodedText } from './protocol';

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;

  constructor(
    tokenizerJson: unknown,
    tokenizerConfig: unknown,
    private readonly maxLength: number,
  ) {
    if (!tokenizerJson || typeof tokenizerJson !== 'object' || !('model' in tokenizerJson)) {
      throw new Error('tokenizer.json is not a Hugging Face tokenizers file (it has no "model")');
    }
    this.tokenizer = new Tokenizer(tokenizerJson, (tokenizerConfig ?? {}) as object);
  }

  encode(text: string): EncodedText {
    if (typeof text !== 'string') throw new Error(`is ${typeof text}, not a string`);
    if (!text.trim()) throw new Error('is empty (or only whitespace); remove it');
    const full = this.tokenizer.encode(text).ids;
    const originalLength = full.length;
    if (originalLength === 0) throw new Error('produced no tokens; remove it');
    let ids = full;
    let truncated = false;
    if (originalLength > this.maxLength) {
      truncated = true;
      const body = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
      const start = findSpan(full, body);
      const prefix = full.slice(0, start);
      const suffix = full.slice(start + body.length);
      const room = this.maxLength - prefix.length - suffix.length;
      if (room < 1) throw new Error(`max_length ${this.maxLength} leaves no room for text`);
      ids = [...prefix, ...body.slice(0, room), ...suffix];
    }
    return { ids, text: ids.map((id) => this.display(id)), truncated, originalLength };
  }

  /** Same rule as Python's `_tokens.clean_token`. */
  private display(id: number): string {
    const raw = this.tokenizer.id_to_token(id) ?? '';
    if (raw.startsWith('##') && raw.length > 2) return raw.slice(2);
    let s: string;
    try {
      s = this.tokenizer.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    } catch {
      return raw;
    }
    if (s === '') return raw;
    const stripped = s.trim();
    return stripped || s;
  }
}

/** Where `body` starts inside `full` (the special tokens around it are the rest). */
function findSpan(full: number[], body: number[]): number {
  outer: for (let start = 0; start + body.length <= full.length; start++) {
    for (let i = 0; i < body.length; i++) if (full[start + i] !== body[i]) continue outer;
    return start;
  }
  throw new Error('cannot truncate: the tokenizer changes the text tokens when adding special tokens');
}
