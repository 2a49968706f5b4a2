"""Decoding text files as departments send them: UTF-8 (with or without BOM) or GB18030/GBK."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u4e00-\u9fff]")
_TWO_BYTE = re.compile(r"[\u0100-\u07ff]")


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode bytes and say which encoding was used.

    Short GBK text is often also valid UTF-8 by accident: valid UTF-8 with no Chinese character but
    letters of the two-byte range (Latin-extended, IPA ...) is tried as GB18030.

    >>> decode_bytes("代码,名称".encode("gb18030"))
    ('代码,名称', 'gb18030')
    >>> decode_bytes("\\ufeff代码".encode("utf-8"))
    ('代码', 'utf-8-sig')
    >>> decode_bytes("code".encode())
    ('code', 'utf-8')
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw.decode("utf-8-sig"), "utf-8-sig"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030"), "gb18030"
    # Valid UTF-8 that is full of two-byte letters (Latin-extended, IPA, Greek ...) and no Chinese is
    # the signature of GBK text that happens to be valid UTF-8.
    if _TWO_BYTE.search(text) and not _CJK.search(text):
        try:
            other = raw.decode("gb18030")
        except UnicodeDecodeError:
            return text, "utf-8"
        if _CJK.search(other):
            return other, "gb18030"
    return text, "utf-8"
