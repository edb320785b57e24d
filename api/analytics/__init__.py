"""Read side of the contact-centre analytics: fact tables in, `streams.contact_centre.figures`
out.

SQL only sums the stored contribution columns (and takes the nearest-rank p95 of responses);
every ratio is computed once, by `streams.contact_centre.figures.kpis()`, from the
`IntervalFigures` built here. Every statement is scoped to the request's enterprises.

It may import `api.contract` and the lower layers (`sinks`, `streams`, `schemas`, the ground
floor); never `api.routes`, which use it.
"""
