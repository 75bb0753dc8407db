"""Pure domain of the Portail usager: entities, values, rules, ports and use cases.

Only the standard library and attrs are imported here; everything that talks to the
outside world (databases, mail, payment gateways, file stores) is a port declared in
:mod:`portail_domain.ports` and implemented in ``portail_adapters``.
"""
