"""Quality gates: `--fail-under METRIC=VALUE` (higher is better) and `--fail-over METRIC=VALUE` (lower is
better, e.g. `invented_citations=0`). A metric may be scoped to one kind (`calc.fact_coverage=1.0`) or to
the verbatim / paraphrased Q&A pairs (`paraphrase.pass_rate=0.5`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from eval.metrics import HIGHER_IS_BETTER, LOWER_IS_BETTER
from eval.schema import KINDS, VARIANTS


class ThresholdError(ValueError):
    """A threshold argument that cannot be used (unknown metric, wrong direction, not a number)."""


@dataclass(frozen=True)
class Threshold:
    metric: str
    bound: float
    direction: Literal["under", "over"]
    kind: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}.{self.metric}" if self.kind else self.metric


def parse_threshold(spec: str, direction: Literal["under", "over"]) -> Threshold:
    """Parse "METRIC=VALUE" or "SCOPE.METRIC=VALUE" (a kind or a variant) for --fail-under / --fail-over."""
    flag = f"--fail-{direction}"
    name, sep, value = spec.partition("=")
    name = name.strip()
    if not sep or not name or not value.strip():
        raise ThresholdError(f"{flag} {spec!r}: expected METRIC=VALUE, e.g. calc_exact=1.0")
    kind, _, metric = name.rpartition(".")
    if kind and kind not in KINDS + VARIANTS:
        raise ThresholdError(f"{flag} {spec!r}: unknown scope {kind!r}; use a kind ({', '.join(KINDS)}) "
                             f"or a variant ({', '.join(VARIANTS)})")
    allowed, other, other_flag = (
        (HIGHER_IS_BETTER, LOWER_IS_BETTER, "--fail-over") if direction == "under"
        else (LOWER_IS_BETTER, HIGHER_IS_BETTER, "--fail-under")
    )
    if metric in other:
        better = "lower" if direction == "under" else "higher"
        raise ThresholdError(f"{flag} {spec!r}: {metric} is {better}-is-better; use {other_flag} {name}={value.strip()}")
    if metric not in allowed:
        raise ThresholdError(f"{flag} {spec!r}: unknown metric {metric!r}; {flag} accepts {', '.join(allowed)}")
    try:
        bound = float(value)
    except ValueError:
        raise ThresholdError(f"{flag} {spec!r}: {value.strip()!r} is not a number") from None
    return Threshold(metric=metric, bound=bound, direction=direction, kind=kind or None)


def check_thresholds(summary: dict, thresholds: list[Threshold]) -> list[str]:
    """Messages for the thresholds `summary` (as from `metrics.aggregate`) does not meet; empty = pass.
    A metric that could not be measured (no item of that kind) fails: a gate must never pass silently."""
    failures = []
    for t in thresholds:
        if not t.kind:
            group = summary["overall"]
        else:
            group = summary["by_variant" if t.kind in VARIANTS else "by_kind"].get(t.kind)
        value = group.get(t.metric) if group else None
        if value is None:
            failures.append(f"{t.label} could not be measured (no applicable items in the dataset)")
        elif t.direction == "under" and value < t.bound:
            failures.append(f"{t.label} = {value:.4g} is below the minimum {t.bound:g}")
        elif t.direction == "over" and value > t.bound:
            failures.append(f"{t.label} = {value:.4g} is above the maximum {t.bound:g}")
    return failures
