"""The CSV files exchanged with the billing system (§7 of the design).

Reading (UTF-8 or not, ``;`` or ``,``, the header, line numbers, chunks, progress, ``pdf_file``
paths relative to the CSV file) and writing CSV are this adapter's; what the rows mean is the
domain's (``portail_domain.services.exchange``). An embedding system calls::

    import_csv(portal, "readings", path)            # or import_stream(portal, kind, binary_stream, name=…)
    export_csv(portal, "payments", out, since=…)
"""

from portail_domain.model.exchange import EXPORT_KINDS, IMPORT_KINDS

from .cells import parse_since
from .exporting import export_csv
from .importing import import_csv, import_stream

__all__ = ["EXPORT_KINDS", "IMPORT_KINDS", "export_csv", "import_csv", "import_stream", "parse_since"]
