"""Chat prompts: conversations rendered with the tokenizer's chat template, each token
marked with the ``role`` of the message it belongs to and whether it is ``template`` markup.

A message's span in the rendered text is found by rendering the conversation up to it:
``render(messages[:i + 1])`` minus ``render(messages[:i])`` (what Hugging Face's assistant
masks do too). Inside its span, the message's ``content`` (found verbatim) is not markup;
everything else (role headers, separators, end-of-turn tokens) is. Text after the last
message (the generation prompt) belongs to the assistant. A template that does not render
conversations prefix-consistently falls back to locating each content in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ROLES = ("system", "user", "assistant")


@dataclass
class ChatPrompt:
    """One rendered conversation: token ids, and per token its role and markup flag."""

    text: str
    ids: list[int]
    roles: list[str]
    template: list[bool]


def check_conversations(messages: Any) -> list[list[dict[str, str]]]:
    """``messages`` as a list of conversations (one conversation is accepted alone)."""
    if isinstance(messages, Sequence) and messages and isinstance(messages[0], Mapping):
        messages = [messages]
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence) or not messages:
        raise ValueError(
            "messages must be a non-empty list of conversations, each a list of "
            '{"role": ..., "content": ...} dicts'
        )
    out = []
    for i, conv in enumerate(messages):
        if isinstance(conv, str | bytes) or not isinstance(conv, Sequence) or not conv:
            raise ValueError(f"messages[{i}] must be a non-empty list of role/content dicts")
        msgs = []
        for j, m in enumerate(conv):
            if not isinstance(m, Mapping) or not {"role", "content"} <= set(m):
                raise ValueError(f"messages[{i}][{j}] must be a dict with 'role' and 'content'")
            role, content = m["role"], m["content"]
            if role not in ROLES:
                raise ValueError(f"messages[{i}][{j}] has role {role!r}; expected one of {ROLES}")
            if not isinstance(content, str):
                raise ValueError(f"messages[{i}][{j}]['content'] must be a string")
            msgs.append({"role": role, "content": content})
        out.append(msgs)
    return out


def _render(tokenizer: Any, msgs: list[dict[str, str]], add_generation_prompt: bool) -> str:
    text = tokenizer.apply_chat_template(
        msgs, tokenize=False, add_generation_prompt=add_generation_prompt
    )
    if not isinstance(text, str):
        raise ValueError(f"the chat template rendered {type(text).__name__}, not text")
    return text


def _message_spans(
    tokenizer: Any, msgs: list[dict[str, str]], text: str
) -> list[tuple[int, int, int, int]]:
    """Per message ``(span_start, span_end, content_start, content_end)`` in ``text``."""
    spans = []
    start, prefix_ok = 0, True
    for i, m in enumerate(msgs):
        end = None
        if prefix_ok:
            upto = _render(tokenizer, msgs[: i + 1], False)
            if text.startswith(upto) and len(upto) >= start:
                end = len(upto)
            else:
                prefix_ok = False
        c0 = text.find(m["content"], start) if m["content"] else -1
        if c0 < 0:
            c0 = start if end is None else end
        c1 = c0 + len(m["content"])
        if end is None or c1 > end:
            end = c1  # fallback: the span ends with the content; markup joins the next one
        spans.append((start, end, c0, c1))
        start = end
    return spans


def render_chat(
    tokenizer: Any, msgs: list[dict[str, str]], add_generation_prompt: bool
) -> ChatPrompt:
    """Render and tokenize one conversation; needs a chat template and a fast tokenizer."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(
            f"{type(tokenizer).__name__} has no chat template, so messages= cannot be rendered; "
            "set tokenizer.chat_template (a Jinja string) or pass plain prompts"
        )
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(
            f"{type(tokenizer).__name__} is a slow tokenizer: messages= needs a fast tokenizer "
            "(character offsets mark each token's role)"
        )
    text = _render(tokenizer, msgs, add_generation_prompt)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(enc["input_ids"]), list(enc["offset_mapping"])
    spans = _message_spans(tokenizer, msgs, text)
    roles, template = [], []
    for a, b in offsets:
        role, markup = "assistant", True  # after the last message: the generation prompt
        for (s0, s1, c0, c1), m in zip(spans, msgs, strict=True):
            if s0 <= a < s1 or (a == b and s0 <= a <= s1 and a < len(text)):
                role = m["role"]
                markup = not (a < c1 and b > c0)
                break
        roles.append(role)
        template.append(markup)
    return ChatPrompt(text, ids, roles, template)
