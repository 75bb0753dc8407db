"""MkDocs hook: a placeholder for each page another piece of work is writing, until it lands.

The index links ``payfip.md`` (and may link ``security.md``); ``--strict`` fails on a link to a
missing page, so while such a page is absent the build gets a one-paragraph stand-in. Once the
real file exists this hook does nothing.
"""

from __future__ import annotations

from mkdocs.structure.files import File, Files

PENDING = {
    "payfip.md": "# PayFiP\n\nThis page is being written. Meanwhile, see [Invoices and online payment](payments.md).\n",
}


def on_files(files: Files, config) -> Files:  # noqa: ANN001 - MkDocs' config object
    for name, text in PENDING.items():
        if files.get_file_from_path(name) is None:
            files.append(File.generated(config, name, content=text))
    return files
