"""The build report: one format for every message, each message once."""

from __future__ import annotations

from sitegen.errors import Diagnostic, Report


def test_a_message_is_reported_once_in_the_order_first_seen():
    report = Report()
    report.warning("posts/a.md", 3, "no title")
    report.error("posts/b.md", None, "bad date")
    report.warning("posts/a.md", 3, "no title")
    report.add_level("warning", "posts/a.md", 4, "no title")
    assert [str(d) for d in report.diagnostics] == [
        "posts/a.md:3: warning: no title",
        "posts/b.md: error: bad date",
        "posts/a.md:4: warning: no title",
    ]
    assert len(report.errors) == 1 and len(report.warnings) == 2


def test_a_diagnostic_added_to_the_list_directly_still_counts():
    report = Report()
    report.diagnostics.append(Diagnostic("posts/a.md", 1, "warning", "odd"))
    report.warning("posts/a.md", 1, "odd")
    assert len(report.diagnostics) == 1
