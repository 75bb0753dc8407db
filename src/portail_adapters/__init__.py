"""Adapters: the domain's ports made real (SQL, mail, payment, files, passwords) and fakes."""
