"""Internal: Tokens of Unity Catalog / Spark SQL type text and column DDL, for the parser in `parse`.

Words, numbers, punctuation, back-quoted names (```` `` ```` inside is one back quote) and quoted
string literals (backslash escapes and SQL doubled quotes). A character that belongs to none is a
`SchemaError` naming its position.
"""

from __future__ import annotations

from dataclasses import dataclass

from zerobus.errors import SchemaError

__all__ = ["Token", "tokenize"]


@dataclass(frozen=True)
class Token:
    kind: str  # "word" | "quoted" | "string" | "number" | "punct" | "end"
    text: str
    pos: int


def tokenize(text: str, column: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "<>(),:":
            tokens.append(Token("punct", ch, i))
            i += 1
        elif ch == "`":
            j, parts = i + 1, []
            while True:
                if j >= n:
                    raise SchemaError(f"unterminated back-quoted name at position {i} in {text!r}", column)
                if text[j] == "`":
                    if j + 1 < n and text[j + 1] == "`":
                        parts.append("`")
                        j += 2
                        continue
                    break
                parts.append(text[j])
                j += 1
            tokens.append(Token("quoted", "".join(parts), i))
            i = j + 1
        elif ch in "'\"":
            j, parts = i + 1, []
            while True:
                if j >= n:
                    raise SchemaError(f"unterminated string literal at position {i} in {text!r}", column)
                if text[j] == "\\" and j + 1 < n:
                    parts.append(text[j + 1])
                    j += 2
                    continue
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:  # SQL-style doubled quote
                        parts.append(ch)
                        j += 2
                        continue
                    break
                parts.append(text[j])
                j += 1
            tokens.append(Token("string", "".join(parts), i))
            i = j + 1
        elif ch.isalnum() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            tokens.append(Token("number" if word.isdigit() else "word", word, i))
            i = j
        else:
            raise SchemaError(f"unexpected character {ch!r} at position {i} in {text!r}", column)
    tokens.append(Token("end", "", n))
    return tokens
