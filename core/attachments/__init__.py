"""Evidence attached to tickets: call recordings, signed service slips, photos, letters.

The bytes live in an object store (:mod:`core.attachments.storage`); the database keeps only
their metadata (:mod:`core.attachments.models`). ``docs/attachments.md`` explains it to desks
and operators.
"""
