"""Render Bot API formatted text to what the user reads, rejecting what Telegram rejects.

Telegram answers 400 "can't parse entities" for malformed HTML (an unescaped `<` from user input,
an unsupported tag such as `<br>`, an unclosed tag) and for unescaped reserved characters in
MarkdownV2. A fake that accepted those would hide real bugs, so the common cases are checked here.
Legacy Markdown is only rendered, not validated.
"""

from __future__ import annotations

import html
import re

HTML_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot);")
_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = frozenset("*_~|")


class EntityParseError(ValueError):
    """The text would make Telegram answer "Bad Request: can't parse entities: ..."."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def render(text: str, parse_mode: str | None) -> str:
    mode = (parse_mode or "").lower()
    if mode == "":
        return text
    if mode == "html":
        return render_html(text)
    if mode == "markdownv2":
        return render_markdown_v2(text)
    if mode == "markdown":
        return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("*", "").replace("_", "")
    raise EntityParseError(f"unsupported parse_mode {parse_mode!r}")


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def render_html(text: str) -> str:
    out: list[str] = []
    open_tags: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "<":
            match = _TAG.match(text, index)
            name = match.group(2).lower() if match else ""
            if match is None or name not in HTML_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{name}" at byte offset {_offset(text, index)}'
                )
            if match.group(1):
                if not open_tags or open_tags[-1] != name:
                    expected = f'"</{open_tags[-1]}>"' if open_tags else "no end tag"
                    raise EntityParseError(
                        f"Unmatched end tag at byte offset {_offset(text, index)}, "
                        f'expected {expected}, found "</{name}>"'
                    )
                open_tags.pop()
            else:
                open_tags.append(name)
            index = match.end()
            continue
        if char == "&" and (entity := _ENTITY.match(text, index)):
            out.append(html.unescape(entity.group(0)))
            index = entity.end()
            continue
        out.append(char)
        index += 1
    if open_tags:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


def render_markdown_v2(text: str) -> str:
    out: list[str] = []
    index = 0
    in_code = False
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
            continue
        if char == "`":
            # ``` opens a pre block, ` inline code; inside either only ` and \ are special.
            fence = 3 if text.startswith("```", index) else 1
            in_code = not in_code
            index += fence
            continue
        if in_code:
            out.append(char)
            index += 1
            continue
        if char == "[":
            link = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(((?:\\.|[^)\\])*)\)").match(text, index)
            if link is None:
                raise EntityParseError("Character '[' is reserved and must be escaped with '\\'")
            out.append(render_markdown_v2(link.group(1)))
            index = link.end()
            continue
        if char in _MDV2_MARKERS:
            index += 1
            continue
        if char == ">" and (index == 0 or text[index - 1] == "\n"):
            index += 1  # a blockquote line
            continue
        if char in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(char)
        index += 1
    if in_code:
        raise EntityParseError("Can't find end of Pre entity")
    return "".join(out)
