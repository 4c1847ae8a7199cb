"""Training text tokenized as text: a literal `</s>`, `<|user|>` or `<fim_middle>` inside a document is characters.

A Hugging Face tokenizer matches its special-token strings anywhere in the input, so a web page or a source file
that happens to contain `<|end|>` would become an end-of-turn marker in training, and a document quoting
`<fim_middle>` a FIM sentinel (special-token injection). For training, only the chat template's own markers and
jacode's FIM wrapping may produce control ids; everything a user or a corpus wrote goes through `PlainEncoder`,
which is the same tokenizer (same model, normalizer, pre-tokenizer) with special-token matching turned off
(`tokenizers`' `encode_special_tokens`). That alone is not enough: SentencePiece-derived vocabularies (jacode's,
Llama's) also hold `</s>` or `<|user|>` as ordinary pieces that the model itself would pick, so each occurrence
of a special string is given to the model one character per word (`is_pretokenized`): no piece can span it.
On text without special strings the ids equal the tokenizer's own.
"""

from __future__ import annotations

import re
from typing import Any

from jacode.errors import JacodeError


class PlainEncoder:
    def __init__(self, tokenizer: Any):
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise JacodeError(f"{type(tokenizer).__name__} is not a fast (tokenizers-backed) tokenizer; training "
                              "needs one to tokenize special-token strings in the data as plain text")
        from tokenizers import Tokenizer

        # Copies, so that the caller's tokenizer keeps matching special strings (the template's markers).
        self._plain = Tokenizer.from_str(backend.to_str())
        self._plain.encode_special_tokens = True
        self._control = Tokenizer.from_str(backend.to_str())
        for t in (self._plain, self._control):
            t.no_truncation()
            t.no_padding()
        specials = sorted({t.content for t in backend.get_added_tokens_decoder().values() if t.special},
                          key=len, reverse=True)
        self._specials = re.compile("|".join(map(re.escape, specials))) if specials else None

    def __call__(self, text: str) -> list[int]:
        """Ids of `text` with every character, special strings included, as text."""
        return self.with_offsets(text)[0]

    def with_offsets(self, text: str, plain: bool = True) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids and (start, end) character offsets; plain=False matches special strings (a template's markers)."""
        if not text:
            return [], []
        if not plain or self._specials is None or not self._specials.search(text):
            enc = (self._plain if plain else self._control).encode(text, add_special_tokens=False)
            return enc.ids, enc.offsets
        words, starts, pos = [], [], 0
        for m in self._specials.finditer(text):
            if m.start() > pos:
                words.append(text[pos:m.start()])
                starts.append(pos)
            words += list(m.group())
            starts += range(m.start(), m.end())
            pos = m.end()
        if pos < len(text):
            words.append(text[pos:])
            starts.append(pos)
        enc = self._plain.encode(words, is_pretokenized=True, add_special_tokens=False)
        offsets = [(starts[w] + a, starts[w] + b) for w, (a, b) in zip(enc.word_ids, enc.offsets)]
        return enc.ids, offsets
