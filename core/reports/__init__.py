"""Monthly statistics, KPIs, the per-case bulletin, exports and charts (domain §8).

Every number is a SQL aggregate run through the tenant scope (``GROUP BY`` in the database,
never a loop over loaded tickets), narrowed to what the caller may read
(:mod:`core.reports.access`). The KPI definitions are written out in ``docs/reports.md``;
the code follows them line for line.

Modules: :mod:`~core.reports.period` (the reporting window), :mod:`~core.reports.access`
(role scoping), :mod:`~core.reports.sql` (the dialect-specific expressions),
:mod:`~core.reports.stats`, :mod:`~core.reports.kpis`, :mod:`~core.reports.bulletin`,
:mod:`~core.reports.exports`, :mod:`~core.reports.charts`, :mod:`~core.reports.api` and
:mod:`~core.reports.pack` (the CLI's month pack).
"""
