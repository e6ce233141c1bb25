"""Description templates: ``string.Template`` (``$value``, ``${feature}``), checked when a rule
is created so a typo is refused then, not discovered in the middle of an incident.

A template may use the names below and any label name a series can carry; an unknown name is
refused, and at render time a name the series lacks is left as written rather than failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Template

__all__ = ["TEMPLATE_NAMES", "check_template", "render_template"]

TEMPLATE_NAMES = frozenset(
    {
        # about the rule and its verdict
        "rule",
        "metric",
        "value",
        "condition",
        "threshold",
        "low",
        "high",
        "state",
        "severity",
        "runbook_url",
        "window_start",
        "window_end",
        "execution_id",
        "labels",
        # labels every monitor writes, and common extra ones
        "model",
        "version",
        "monitor",
        "schedule",
        "feature",
        "segment",
        "label",
        "group",
        "facet",
        "class",
    }
)


def check_template(text: str, field: str) -> None:
    """Raise ValueError naming ``field`` if ``text`` is not a valid template of known names."""
    template = Template(text)
    if not template.is_valid():
        raise ValueError(
            f"{field} is not a valid template: write $name or ${{name}}, and $$ for a dollar "
            f"sign; got {text!r}"
        )
    unknown = sorted(set(template.get_identifiers()) - TEMPLATE_NAMES)
    if unknown:
        raise ValueError(
            f"{field} uses unknown name(s) {', '.join('$' + n for n in unknown)}; "
            f"known names: {', '.join(sorted(TEMPLATE_NAMES))}"
        )


def render_template(text: str, values: Mapping[str, object]) -> str:
    # safe_substitute: a label this series lacks stays "$segment" instead of raising mid-alert.
    return Template(text).safe_substitute({k: str(v) for k, v in values.items()})
