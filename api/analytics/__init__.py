"""Read side of the contact-centre analytics: fact tables in, `streams.kpis` figures out.

SQL only sums the stored contribution columns (and takes the nearest-rank p95 of responses);
every ratio is computed once, by `streams.kpis.kpis()`, from the `IntervalFigures` built here.
Every statement is scoped to the request's enterprises.
"""
