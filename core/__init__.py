"""tousu core: the complaint lifecycle, tenancy, roles, audit trail and plugin plumbing.

The core knows no industry. Industry plugins implement the hooks in
:mod:`core.hookspecs`; a plugin author needs one import::

    from core import hookimpl
"""

from core.hookspecs import hookimpl
from core.taxonomy import Facet, Taxonomy, Term

__all__ = ["Facet", "Taxonomy", "Term", "hookimpl"]
