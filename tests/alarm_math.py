"""CloudWatch metric math, evaluated on recorded series the way an alarm evaluates it.

Enough of the language for the library's alarms: numbers, metric ids, ``+ - * /`` and
``FILL(id, constant)``. A period whose value cannot be computed (no input reported, or a
division by zero) is missing, as CloudWatch leaves it.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, Sequence

Value = float | None

_OPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def evaluate(expression: str, values: Mapping[str, Value]) -> Value:
    """``expression`` for one period, each metric id given its value (None: not reported)."""
    if all(value is None for value in values.values()):
        return None
    return _eval(ast.parse(expression, mode="eval").body, values)


def _eval(node: ast.expr, values: Mapping[str, Value]) -> Value:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "FILL":
        series, constant = node.args
        given = _eval(series, values)
        return given if given is not None else _eval(constant, values)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _eval(node.left, values), _eval(node.right, values)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Div) and right == 0:
            return None
        return _OPS[type(node.op)](left, right)
    raise ValueError(f"not supported in alarm math here: {ast.dump(node)}")


def alarm_states(
    series: Sequence[Value],
    *,
    threshold: float,
    evaluation_periods: int,
    datapoints_to_alarm: int,
    missing_breaches: bool,
) -> list[str]:
    """The state after each period (``ALARM`` or ``OK``) of a GreaterThanThreshold alarm."""
    states = []
    for end in range(1, len(series) + 1):
        window = series[max(0, end - evaluation_periods) : end]
        breaching = sum(
            1 for v in window if (missing_breaches if v is None else v > threshold)
        )
        states.append("ALARM" if breaching >= datapoints_to_alarm else "OK")
    return states
