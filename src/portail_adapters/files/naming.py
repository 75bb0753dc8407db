"""How a stored document is offered for download: an RFC 6266 ``Content-Disposition``."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename=`` fallback and the exact name in ``filename*=UTF-8''…``.

    The name is already clean (no path, no control or bidi characters); this only makes it fit a
    header: the fallback keeps ASCII letters, digits and ``._-`` (accents folded), nothing that
    could end the quoted string or the header.
    """
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in folded).strip("._") or "document"
    exact = quote(filename, safe="")
    if exact == fallback:
        return f'attachment; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
