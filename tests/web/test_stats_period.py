"""The period the statistics page is asked for, and the SVG charts it draws (pure code)."""

from __future__ import annotations

from datetime import date

import pytest

from svi_acd.web.charts import Series, bar_chart, line_chart, nice_ceiling
from svi_acd.web.stats_dashboard import period_label
from svi_acd.web.stats_query import Period, read_form

TODAY = date(2026, 10, 14)


def test_a_week_runs_from_monday_to_sunday_around_the_day() -> None:
    period = read_form({"periode": "semaine", "date": "2026-10-14"}, TODAY).period
    assert period == Period("semaine", date(2026, 10, 12), date(2026, 10, 18))
    assert period.label == "semaine 42, du 12/10/2026 au 18/10/2026"
    assert period.trend_by == "day"


def test_a_month_is_the_whole_calendar_month() -> None:
    period = read_form({"periode": "mois", "date": "14/02/2028"}, TODAY).period
    assert period == Period("mois", date(2028, 2, 1), date(2028, 2, 29))
    assert period.label == "février 2028"
    assert period.shifted(-1) == Period("mois", date(2028, 1, 1), date(2028, 1, 31))
    assert period.shifted(1).end == date(2028, 3, 31)


def test_without_parameters_it_is_today() -> None:
    form = read_form({}, TODAY)
    assert form.period == Period("jour", TODAY, TODAY) and form.errors == {}
    assert form.period.label == "mercredi 14 octobre 2026"
    assert form.period.trend_by == "hour"


def test_a_free_period_keeps_its_length_when_moved() -> None:
    form = read_form({"periode": "libre", "du": "01/10/2026", "au": "2026-10-10"}, TODAY)
    assert form.period == Period("libre", date(2026, 10, 1), date(2026, 10, 10))
    assert form.period.shifted(1) == Period("libre", date(2026, 10, 11), date(2026, 10, 20))
    assert form.query() == {"periode": "libre", "du": "2026-10-01", "au": "2026-10-10"}
    long = read_form({"periode": "libre", "du": "2026-01-01", "au": "2026-12-31"}, TODAY)
    assert long.period is not None and long.period.trend_by == "week"


@pytest.mark.parametrize("typed", ["2026-02-30", "30/02/2026", "demain", "2026-10-14T10:00"])
def test_impossible_dates_are_refused_in_french(typed: str) -> None:
    form = read_form({"periode": "jour", "date": typed}, TODAY)
    assert form.period is None
    assert form.errors == {"date": f"Date invalide « {typed} » : saisissez-la comme 14/10/2026."}
    assert form.day == typed


def test_the_two_hours_of_the_autumn_change_are_told_apart() -> None:
    assert period_label("hour", "2026-10-25T02:00+02:00", True) == "02:00 (UTC+02:00)"
    assert period_label("hour", "2026-10-25T02:00+01:00", True) == "02:00 (UTC+01:00)"
    assert period_label("hour", "2026-10-25T03:00+01:00", True) == "03:00"
    assert period_label("week", "2026-W42", False) == "semaine 42 (du 12/10/2026)"
    assert period_label("day", "2026-10-14", False, short=True) == "14/10"


@pytest.mark.parametrize(
    ("value", "whole", "top"),
    [(0, True, 4), (7, True, 8), (13, True, 20), (100, True, 100), (0.3, False, 1),
     (2.6, True, 4), (1234, True, 2000)],
)  # fmt: skip
def test_axes_end_on_round_values(value: float, whole: bool, top: float) -> None:
    assert nice_ceiling(value, whole) == top
    if whole:
        assert (top / 4) == int(top / 4)  # whole-number ticks for counts


def test_a_bar_chart_is_a_named_image_whose_series_differ_by_more_than_colour() -> None:
    svg = str(bar_chart("g", "Appels <par> heure", "Description & détail", ["09 h", "10 h"],
                        [Series("Présentés", [6, 7]), Series("Servis", [1, 5])]))  # fmt: skip
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-label="Appels &lt;par&gt; heure"' in svg
    assert '<title id="g-titre">Appels &lt;par&gt; heure</title>' in svg
    assert '<desc id="g-desc">Description &amp; détail</desc>' in svg
    assert 'fill="url(#g-motif-1)"' in svg and 'patternTransform="rotate(45)"' in svg  # hatched
    assert "<script" not in svg and "style=" not in svg  # nothing the CSP would refuse
    assert svg.count("<rect x=") >= 4  # one bar per value


def test_a_line_chart_breaks_where_there_is_no_value() -> None:
    svg = str(line_chart("t", "Taux", "Taux par jour", ["1", "2", "3", "4"],
                         [Series("Taux de décroché", [0.5, None, 0.75, 1.0]),
                          Series("Taux d'abandon", [0.1, 0.2, None, None])]))  # fmt: skip
    assert svg.count("<polyline") == 2  # days 3-4 for the first, days 1-2 for the second
    assert 'stroke-dasharray="8 5"' in svg  # the second series is dashed
    assert "Taux de décroché : 75 %" in svg  # each point names its value
