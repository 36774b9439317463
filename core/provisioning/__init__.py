"""Tenant provisioning: the declarative tenant file (``tenants/<slug>.toml``), applying it
(``tousu tenants sync``, ``POST``/``PUT /api/tenants``) and the platform's tenant routes.

It sits above every area it writes — people, deadline settings and calendar days, fine
settings — and reads tickets (a plugin change is refused on a tenant that has some), so
none of those areas imports it (``docs/architecture.md``).
"""
