"""The metric names a PromQL expression reads, and the sample names a /metrics page exposes: so
the shipped alert rules and Grafana panels can be checked against what the processes serve.

Not a PromQL parser: it drops what cannot hold a metric name (strings, label matchers, ranges,
Grafana's `$variables`, the label lists of `by`/`without`/`on`/`ignoring`/`group_left`/
`group_right`), then keeps the identifiers that are neither called (`rate(`) nor keywords.
"""

from __future__ import annotations

import re

# Aggregations take their grouping before or after the parenthesis: `sum by (x) (...)`.
AGGREGATIONS = frozenset(
    {
        "sum",
        "avg",
        "min",
        "max",
        "count",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "limitk",
        "limit_ratio",
    }
)
KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "atan2",
        "inf",
        "nan",
    }
)
# Series Prometheus writes for every target itself; no process exposes them.
SYNTHETIC = frozenset(
    {
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
        "ALERTS",
        "ALERTS_FOR_STATE",
    }
)

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
# `${var}`, `${var:format}`, `$var`, `[[var]]`: Grafana fills them in before PromQL sees them.
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]")
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
# Not after a digit or a dot, so `5m`, `1e3` or `0.5` yield nothing.
_IDENTIFIER = re.compile(r"(?<![\w.:])([A-Za-z_:][\w:]*)(\s*\()?")
# A histogram `x` has the samples `x_bucket`, `x_sum`, ... A counter's family is `x_total` in
# the text format and `x` in OpenMetrics, its samples `x_total` and `x_created` in both.
_SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "untyped": ("",),
    "unknown": ("",),
}


def metric_names(expr: str) -> set[str]:
    """The metric names `expr` selects, synthetic ones (`up`) included."""
    text = _STRING.sub('""', expr)
    text = _VARIABLE.sub(" ", text)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names: set[str] = set()
    for match in _IDENTIFIER.finditer(text):
        name, called = match.group(1), match.group(2)
        # PromQL's keywords ignore case (`SUM BY`, `Inf`); metric names do not.
        if called or name.lower() in AGGREGATIONS or name.lower() in KEYWORDS:
            continue
        names.add(name)
    return names


def exposed_names(exposition: str) -> set[str]:
    """Every sample name a /metrics page can carry: those it carries now, and those its
    `# TYPE` lines promise, since a labelled metric shows no sample before its first use."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(maxsplit=3)
            if kind == "counter":
                family = family.removesuffix("_total")
            names.update(family + suffix for suffix in _SAMPLE_SUFFIXES.get(kind, ("",)))
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names
