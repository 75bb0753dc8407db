"""Pure domain of the Portail usager: entities, values, rules, ports and use cases.

Only the standard library and attrs are imported here; everything that talks to the
outside world (databases, mail, payment gateways, file stores) is a port declared in
:mod:`portail_domain.ports` and implemented in ``portail_adapters``.

Per area of the business (accounts, contracts, billing, documents, requests, exchange, mail)
one model module and one service module share the area's name:

- ``model/<area>.py``: entities, values and rules; imports only other models;
- ``ports.py``: the ``typing.Protocol``s, over models only; ``portal.py``: the wired ports;
- ``services/<area>.py``: the use cases. Each takes the ``Portal`` first, opens its own unit
  of work and commits it; read views open a read-only one.

Import direction: services → portal → ports → model, never back (import-linter checks it, and
that no import cycle exists anywhere inside this package).
"""
