"""Japanese + code tokenizer: SentencePiece trained on MeCab-segmented Japanese, exported for transformers."""
