"""The CloudWatch cost of an environment's collectors, from its rendered configurations:
``python -m tools.cli cost --env NAME``."""

from __future__ import annotations

from tools.cost.report import CollectorCost, collector_costs, format_json, format_table, totals
from tools.cost.series import PublishedSeries, SeriesGroup, published_series

__all__ = [
    "CollectorCost",
    "PublishedSeries",
    "SeriesGroup",
    "collector_costs",
    "format_json",
    "format_table",
    "published_series",
    "totals",
]
