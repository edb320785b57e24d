"""tests.support.promql: the metric names of PromQL expressions and of /metrics pages."""

from __future__ import annotations

import pytest

from tests.support.promql import exposed_names, metric_names


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("switchboard_consumer_lag_seconds > 60", {"switchboard_consumer_lag_seconds"}),
        (
            "switchboard_consumer_status >= 2 and switchboard_consumer_status <= 3",
            {"switchboard_consumer_status"},
        ),
        # Label names and values, in matchers and groupings, are no metrics.
        (
            'sum by (type) (increase(x_total{status="failed", type=~"a|b"}[15m])) > 0',
            {"x_total"},
        ),
        ("sum(rate(x_total[5m])) by (route, le)", {"x_total"}),
        ("sum without (instance) (x)", {"x"}),
        ("a / on (group) group_left (topic) b", {"a", "b"}),
        ("a / ignoring(partition) group_right(topic) b", {"a", "b"}),
        ('up{job="switchboard-worker"} == 0', {"up"}),
        # Functions and aggregations are called, numbers and durations are no identifiers.
        (
            "histogram_quantile(0.95, sum by (le, route) (rate(d_bucket[$__rate_interval])))",
            {"d_bucket"},
        ),
        ("topk(5, x) offset 1h", {"x"}),
        ("x @ start()", {"x"}),
        ("x > bool 1e3", {"x"}),
        ("rate(x[5m:30s])", {"x"}),
        ("sum(x) or vector(0)", {"x"}),
        ("max_over_time(x[1h]) unless y", {"x", "y"}),
        ('quantile(0.9, x) and count_values("v", y)', {"x", "y"}),
        ("x + Inf - NaN", {"x"}),
        ("SUM BY (topic) (x) OR y", {"x", "y"}),
        # Grafana's variables are filled in before PromQL sees them.
        ('x{group="$group", topic=~"${topic:regex}"}[$__range]', {"x"}),
        ("rate(x[${__interval}]) * [[scale]]", {"x"}),
        # A string may hold anything PromQL would otherwise read.
        ('label_replace(x, "dst", "$1 rate(y)", "src", "(.*) } z")', {"x"}),
        # Colons are for recording rules.
        ("job:requests:rate5m > 1", {"job:requests:rate5m"}),
    ],
)
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


EXPOSITION = """\
# HELP api_requests_total HTTP requests.
# TYPE api_requests_total counter
api_requests_total{method="GET",route="/health",status="200"} 3.0
api_requests_created{method="GET",route="/health",status="200"} 1.7e9
# HELP batch_seconds Batch time.
# TYPE batch_seconds histogram
# HELP lag Lag.
# TYPE lag gauge
lag{group="g",topic="t",partition="0"} 4.0
# HELP python_info Python platform information
# TYPE python_info gauge
python_info{implementation="CPython"} 1.0
"""


def test_exposed_names_include_the_samples_of_unused_labelled_metrics() -> None:
    assert exposed_names(EXPOSITION) == {
        "api_requests_total",
        "api_requests_created",
        "batch_seconds_bucket",
        "batch_seconds_sum",
        "batch_seconds_count",
        "batch_seconds_created",
        "lag",
        "python_info",
    }


def test_exposed_names_read_openmetrics_counter_families() -> None:
    page = "# TYPE events counter\nevents_total 1.0\n# TYPE facts info\n# EOF\n"

    assert exposed_names(page) == {"events_total", "events_created", "facts_info"}
