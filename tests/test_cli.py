from __future__ import annotations

import re
import shutil
import subprocess
import sys

from sitegen import __version__
from sitegen.cli import main


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert __version__ in capsys.readouterr().out


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2


def test_init_then_build(tmp_path, capsys):
    site = tmp_path / "blog"
    assert main(["init", str(site)]) == 0
    assert (site / "sitegen.toml").is_file()
    (post,) = (site / "posts").glob("*.md")
    assert re.match(r"\d{4}-\d{2}-\d{2}-hello-world\.md", post.name)
    assert main(["build", "--source", str(site), "--no-verify"]) == 0
    assert (site / "_site/index.html").is_file()


def test_init_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x/file").write_text("keep")
    assert main(["init", str(tmp_path / "x")]) == 2  # nothing was made: a usage error


def test_new_creates_a_dated_post(tmp_path, capsys):
    assert main(["new", "Backprop, again!", "--source", str(tmp_path)]) == 0
    (post,) = (tmp_path / "posts").glob("*.md")
    assert post.name.endswith("-backprop-again.md")
    text = post.read_text()
    assert 'title: "Backprop, again!"' in text and "```python verify" in text
    assert main(["new", "Backprop, again!", "--source", str(tmp_path)]) == 2


def test_config_error_exits_2(tmp_path, capsys):
    (tmp_path / "posts").mkdir()
    (tmp_path / "sitegen.toml").write_text("posts_per_page = 0\n")
    assert main(["build", "--source", str(tmp_path)]) == 2
    assert "sitegen.toml" in capsys.readouterr().err


def test_console_entry_point_runs_as_module(tmp_path):
    shutil.copytree(__import__("pathlib").Path(__file__).parent / "sites/basic", tmp_path / "s")
    proc = subprocess.run([sys.executable, "-m", "sitegen", "build", "-q"], cwd=tmp_path / "s",
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s/_site/2024/01/02/first-post/index.html").is_file()


def test_verbose_build_names_plugins_and_stage_times(tmp_path, capsys):
    shutil.copytree(__import__("pathlib").Path(__file__).parent / "sites/basic", tmp_path / "s")
    assert main(["build", "-v", "--source", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "plugins: excerpts, feeds, gradcheck, links, references, sitemap, tags" in out
    assert re.search(r"\d+\.\d{3} s  Markdown and plugins \(4 sources\)", out)
    assert re.search(r"\d+\.\d{3} s  pages \(\d+ of \d+ rendered, \d+ written\)", out)


def test_a_plugin_that_leaves_its_file_open_keeps_what_it_wrote(tmp_path):
    # the program exits as Python does: buffers of files a plugin did not close are flushed
    site = tmp_path / "s"
    shutil.copytree(__import__("pathlib").Path(__file__).parent / "sites/basic", site)
    (site / "plugins").mkdir()
    (site / "plugins/logger.py").write_text(
        "from sitegen.hooks import hookimpl\n"
        "LOG = []\n"
        "@hookimpl\n"
        "def sitegen_build_finished(site):\n"
        "    fh = open(site.root / 'build.log', 'w')\n"
        "    fh.write('build finished')\n"
        "    LOG.append(fh)  # never closed\n"
    )
    proc = subprocess.run([sys.executable, "-m", "sitegen", "build", "-q"], cwd=site,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (site / "build.log").read_text() == "build finished"


def test_failed_build_exit_code_and_summary_through_the_program(tmp_path):
    site = tmp_path / "s"
    shutil.copytree(__import__("pathlib").Path(__file__).parent / "sites/basic", site)
    (site / "posts/2024-03-01-broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    proc = subprocess.run([sys.executable, "-m", "sitegen", "build"], cwd=site,
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "posts/2024-03-01-broken.md:3: error: malformed front matter" in proc.stderr
    assert "built " in proc.stdout


def test_a_profiled_run_writes_its_profile(tmp_path):
    # cProfile writes its results after the program returns: no quick exit under it
    site = tmp_path / "s"
    shutil.copytree(__import__("pathlib").Path(__file__).parent / "sites/basic", site)
    stats = tmp_path / "build.prof"
    proc = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "sitegen", "build", "-q"],
        cwd=site, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert stats.is_file() and stats.stat().st_size > 0
