"""The public CloudWatch prices the cost report applies: one table, one place.

Source: https://aws.amazon.com/cloudwatch/pricing/ (paid tier, US East (N. Virginia)), read
2026-12-05. Prices vary by Region; the report prints the rates it used. The account's free tier
(10 metrics, 10 alarm metrics, 3 dashboards a month) is not subtracted: it is shared by
everything else in the account.
"""

from __future__ import annotations

from typing import Final

#: USD per custom metric (namespace, name and dimension values) per month, standard
#: resolution, first 10,000 metrics of the account (lower tiers above that).
METRIC_MONTH_USD: Final = 0.30
#: USD per metric an alarm of standard resolution reads, per month; a metric-math alarm pays
#: for each metric in its expression.
ALARM_METRIC_MONTH_USD: Final = 0.10
#: USD per custom dashboard per month.
DASHBOARD_MONTH_USD: Final = 3.00
#: Where the prices were read, and when.
SOURCE: Final = "https://aws.amazon.com/cloudwatch/pricing/ (us-east-1, read 2026-12-05)"


def monthly_usd(*, metrics: int, alarm_metrics: int, dashboards: int) -> float:
    """The list price of ``metrics`` series, ``alarm_metrics`` and ``dashboards`` for a month."""
    return round(
        metrics * METRIC_MONTH_USD
        + alarm_metrics * ALARM_METRIC_MONTH_USD
        + dashboards * DASHBOARD_MONTH_USD,
        2,
    )
