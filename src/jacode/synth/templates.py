"""Magpie's pre-query template, derived from a model's own chat template.

Magpie (Xu et al., 2024) samples instructions by giving an aligned model only the text that precedes a user
message — the model then writes the user's turn itself. That text is found by rendering a conversation whose user
message is a marker and cutting before the marker; the instruction ends where the template's end-of-user-turn
text begins (found by rendering a user and an assistant marker and taking what lies between them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jacode.errors import JacodeError

USER_MARK = "\ue000jacode user mark\ue000"
USER_MARK_2 = "\ue000jacode other user mark\ue000"
ASSISTANT_MARK = "\ue000jacode assistant mark\ue000"


@dataclass(frozen=True)
class PreQuery:
    prefix: str  # what the model is given: everything before the user's text
    stops: tuple[str, ...]  # where the user's text ends


def _render(tokenizer, messages: list[dict], **kw) -> str:
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False, **kw)
    except Exception as e:  # noqa: BLE001 — jinja errors come in many types; all mean the same to the user
        raise JacodeError(f"the chat template could not render a conversation: {e}") from e


def pre_query_template(tokenizer, system: str | None = None) -> PreQuery:
    """The pre-query template of `tokenizer`'s chat template, with an optional system prompt inside it."""
    if not getattr(tokenizer, "chat_template", None):
        raise JacodeError("the model has no chat template: Magpie needs one (or pass --chat-template FILE)")
    head = [{"role": "system", "content": system}] if system else []
    rendered = _render(tokenizer, head + [{"role": "user", "content": USER_MARK}])
    other = _render(tokenizer, head + [{"role": "user", "content": USER_MARK_2}])
    if rendered.count(USER_MARK) != 1:
        raise JacodeError("cannot cut the chat template: the user message does not appear exactly once, verbatim, "
                          "in its rendering (does the template transform or drop the content?)")
    prefix = rendered[:rendered.index(USER_MARK)]
    if USER_MARK_2 not in other or other[:other.index(USER_MARK_2)] != prefix:
        raise JacodeError("cannot cut the chat template: the text before the user message depends on the message")
    if system and system not in prefix:
        raise JacodeError("the chat template drops the system prompt; leave --system out for this model")
    pair = _render(tokenizer, head + [{"role": "user", "content": USER_MARK},
                                      {"role": "assistant", "content": ASSISTANT_MARK}])
    if USER_MARK not in pair or ASSISTANT_MARK not in pair:
        raise JacodeError("cannot find where a user turn ends in the chat template")
    between = pair[pair.index(USER_MARK) + len(USER_MARK):pair.index(ASSISTANT_MARK)]
    head_text = between.strip()
    first_line = head_text.splitlines()[0] if head_text else ""
    # A template's end-of-turn token (<|eot_id|>, <|im_end|>, </s>) is often the first thing between the turns.
    token = re.match(r"<[^<>\s]{1,40}>", head_text)
    stops = [s for s in dict.fromkeys([head_text, first_line, token.group(0) if token else ""]) if s]
    if not stops:
        raise JacodeError("the chat template puts nothing between the user and assistant turns: the end of a "
                          "generated instruction cannot be found")
    return PreQuery(prefix=prefix, stops=tuple(stops))
