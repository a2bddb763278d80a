"""The words on the chart and the summary page in a person's language, from the texts kit
(``flows/texts_progress_page.yaml``, keys in ``bot.texts.PAGE_LABELS``).

``chart_labels`` and ``summary_labels`` give the mappings ``bot.progress.chart`` and
``bot.progress.summary`` draw with; a language the file lacks gets English. Dates are
written with the language's month names and order (``date``, ``day_month``, ``months``).
"""

from __future__ import annotations

from bot import texts

CHART_KEYS = {  # the chart's label -> the text's key
    "title": "chart_title",
    "pain_axis": "pain_axis",
    "pain_line": "pain_line",
    "activity_axis": "activity_axis",
    "date_axis": "date_axis",
    "months": "months",
    "day_month": "day_month",
}


def _words(language: str) -> dict[str, str]:
    return {name: key.get(language) for name, key in texts.PAGE_LABELS.items()}


def chart_labels(language: str) -> dict[str, str]:
    """The chart's title, axes, legend and dates in ``language``."""
    words = _words(language)
    return {label: words[key] for label, key in CHART_KEYS.items()}


def summary_labels(language: str) -> dict[str, str]:
    """The summary page's headings and lines in ``language``, with its chart's labels
    (``chart_`` before each)."""
    words = _words(language)
    return {**words, **{f"chart_{label}": value for label, value in chart_labels(language).items()}}
