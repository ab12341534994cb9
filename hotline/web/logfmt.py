"""Structured logs: one JSON object per line, the call's ``linkedid`` as a field, phone numbers masked.

* :func:`mask_phone_numbers` is the one masker, :func:`hotline.kernel.masking.mask_numbers` (mobiles
  ``138****8000``, landlines, ID numbers, full-width and Chinese-numeral digits; uniqueids like
  ``1767225600.12`` and linkedids are left alone).
* :class:`MaskingFilter` applies it to the formatted message and to string ``extra`` fields.
* :class:`JsonFormatter` writes ``{"at", "level", "logger", "msg", "linkedid"?, "exc"?}``; the
  ``linkedid`` comes from ``extra={"linkedid": ...}`` or a ``linkedid=...`` in the message.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

from hotline.kernel.masking import mask_numbers

#: the one masker (kept under the name callers and tests use)
mask_phone_numbers = mask_numbers

_LINKEDID = re.compile(r"linkedid[=:] ?([0-9]+\.[0-9]+)")
_STD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message", "asctime"}


class MaskingFilter(logging.Filter):
    """Masks phone numbers in every record (message with its args, and string extras)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # a bad format string or args: keep the record as is
            return True
        record.msg = mask_phone_numbers(message)
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STD_ATTRS and isinstance(value, str):
                setattr(record, key, mask_phone_numbers(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (UTF-8, Chinese kept), with ``linkedid`` when known."""

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        out: dict[str, Any] = {"at": round(record.created, 3), "level": record.levelname, "logger": record.name,
                               "msg": msg}
        linkedid = getattr(record, "linkedid", None)
        if linkedid is None:
            m = _LINKEDID.search(msg)
            linkedid = m.group(1) if m else None
        if linkedid:
            out["linkedid"] = linkedid
        for key, value in vars(record).items():
            if key not in _STD_ATTRS and key != "linkedid" and isinstance(value, str | int | float | bool):
                out[key] = value
        if record.exc_info:
            out["exc"] = mask_phone_numbers(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(fmt: str = "json", level: int = logging.INFO) -> None:
    """Root logging for ``hotline run``: ``json`` or ``text``, phone numbers masked either way."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
