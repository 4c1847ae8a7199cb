"""Special tokens every jacode tokenizer has, with fixed ids so that models and recipes agree."""

UNK, BOS, EOS, PAD = "<unk>", "<s>", "</s>", "<pad>"
FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, FIM_PAD = "<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>"
CHAT = ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]

CONTROL = [UNK, BOS, EOS, PAD]  # ids 0..3
SPECIAL = [FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, FIM_PAD, *CHAT]
# Kept as single pieces, never merged with anything: code depends on them being exact.
LAYOUT = ["\n", "\t"]

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
