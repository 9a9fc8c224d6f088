"""Posts dated in the future: held back with a note naming them and their date, then
published by the next build (the skip-if-unchanged check included) and by a running
``serve`` once their moment has passed; every command reads the clock in the site's
``timezone``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sitegen.build import build_site
from sitegen.cli import main
from sitegen.model import BuildOptions
from sitegen.scaffold import new_post
from sitegen.server import start_preview

TOKYO = ZoneInfo("Asia/Tokyo")  # +09:00, no summer time


def make_site(root: Path, config: str = 'title = "Soon"\n') -> Path:
    (root / "posts").mkdir(parents=True)
    (root / "posts" / "2026-01-01-old.md").write_text("---\ntitle: Old\n---\n\nOld post.\n")
    (root / "sitegen.toml").write_text(config)
    return root


def write_post(root: Path, name: str, date: str) -> Path:
    path = root / "posts" / name
    path.write_text(f"---\ntitle: Later\ndate: {date}\n---\n\nThe scheduled body.\n")
    return path


def utc_wall(seconds: float) -> datetime:
    """The UTC wall-clock time ``seconds`` from now, to the next whole second."""
    when = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=seconds)
    return when.replace(microsecond=0) + timedelta(seconds=1)


def wait_until(moment: datetime) -> None:
    """Sleep until the UTC wall-clock ``moment`` has passed."""
    while datetime.now(UTC).replace(tzinfo=None) <= moment:
        time.sleep(0.05)


def built_pages(root: Path) -> list[str]:
    return sorted(p.parent.name for p in (root / "_site").glob("20*/*/*/*/index.html"))


def test_a_future_post_is_a_note_then_published_by_the_next_build(tmp_path, capsys):
    root = make_site(tmp_path / "site")
    when = utc_wall(4)
    write_post(root, f"{when:%Y-%m-%d}-later.md", f"{when:%Y-%m-%d %H:%M:%S}")
    assert main(["build", "-s", str(root)]) == 0
    err = capsys.readouterr().err
    assert f"posts/{when:%Y-%m-%d}-later.md: note: dated {when:%Y-%m-%d %H:%M:%S} UTC" in err
    assert "in the future" in err
    assert built_pages(root) == ["old"]

    assert main(["build", "-s", str(root)]) == 0  # nothing changed, still too early
    captured = capsys.readouterr()
    assert "nothing changed" in captured.out and "note: dated" in captured.err

    wait_until(when)
    assert main(["build", "-s", str(root)]) == 0  # no edit: only the time has passed
    captured = capsys.readouterr()
    assert "nothing changed" not in captured.out
    assert "note:" not in captured.err
    assert built_pages(root) == ["later", "old"]
    index = (root / "_site" / "index.html").read_text()
    assert "Later" in index

    assert main(["build", "-s", str(root)]) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_a_running_serve_publishes_a_post_when_it_is_due(tmp_path):
    root = make_site(tmp_path / "site")
    when = utc_wall(3)
    name = f"{when:%Y-%m-%d}-later.md"
    write_post(root, name, f"{when:%Y-%m-%d %H:%M:%S}")
    preview = start_preview(root, BuildOptions(), port=0, watch=True, quiet=True)
    try:
        page = preview.live.out / f"{when:%Y/%m/%d}/later/index.html"
        assert not page.exists()
        assert preview.live.next_due() == when.replace(tzinfo=UTC)
        wait_until(when)
        deadline = time.monotonic() + 30
        while not page.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "The scheduled body" in page.read_text()
        # the page is written before that build has finished (and forgotten the date)
        while preview.live.next_due() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert preview.live.next_due() is None
        assert "Later" in (preview.live.out / "index.html").read_text()
    finally:
        preview.stop()


def test_the_site_timezone_decides_not_the_machines(tmp_path):
    # an hour ago in Tokyo is 8 hours ahead of the UTC wall clock of a CI machine
    root = make_site(tmp_path / "site", 'title = "Tokyo"\ntimezone = "Asia/Tokyo"\n')
    past = datetime.now(TOKYO).replace(tzinfo=None, microsecond=0) - timedelta(hours=1)
    write_post(root, f"{past:%Y-%m-%d}-past.md", f"{past:%Y-%m-%d %H:%M:%S}")
    future = datetime.now(TOKYO).replace(tzinfo=None, microsecond=0) + timedelta(hours=1)
    write_post(root, f"{future:%Y-%m-%d}-future.md", f"{future:%Y-%m-%d %H:%M:%S}")
    result = build_site(root, BuildOptions())
    assert sorted(p.slug for p in result.site.posts) == ["old", "past"]
    notes = [str(d) for d in result.site.report.diagnostics if d.level == "note"]
    assert notes == [
        f"posts/{future:%Y-%m-%d}-future.md: note: dated {future:%Y-%m-%d %H:%M:%S} "
        "+0900, in the future: not published until then (--future builds it now)"
    ]


def test_a_date_with_its_own_zone_is_that_moment(tmp_path):
    root = make_site(tmp_path / "site")  # the site's zone is UTC
    # written in Tokyo time: the wall clock is ahead of UTC, the moment is past or future
    past = (datetime.now(TOKYO) - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S +0900")
    future = (datetime.now(TOKYO) + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S +0900")
    write_post(root, "2026-01-02-zoned-past.md", past)
    write_post(root, "2026-01-03-zoned-future.md", future)
    result = build_site(root, BuildOptions())
    assert sorted(p.slug for p in result.site.posts) == ["old", "zoned-past"]
    assert any(
        d.level == "note" and d.path == "posts/2026-01-03-zoned-future.md" and "+0900" in d.message
        for d in result.site.report.diagnostics
    )


def test_new_writes_the_time_of_the_sites_zone_and_build_publishes_it(tmp_path, capsys):
    root = make_site(tmp_path / "site", 'title = "Tokyo"\ntimezone = "Asia/Tokyo"\n')
    assert new_post(root, "Fresh") == 0
    path = Path(capsys.readouterr().out.strip())
    text = path.read_text()
    line = next(x for x in text.splitlines() if x.startswith("date:"))
    written = datetime.strptime(line.split(":", 1)[1].strip().strip('"'), "%Y-%m-%d %H:%M:%S")
    tokyo_now = datetime.now(TOKYO).replace(tzinfo=None)
    assert abs((tokyo_now - written).total_seconds()) < 120
    assert path.name.startswith(f"{written:%Y-%m-%d}-")
    result = build_site(root, BuildOptions())
    assert "fresh" in {p.slug for p in result.site.posts}  # published at once, not in 9 h
    assert not [d for d in result.site.report.diagnostics if d.level == "note"]
