"""The author's first steps: init, new, help texts, and what the commands say back."""

from __future__ import annotations

import json
import shutil
import socket
import tomllib
from pathlib import Path

import pytest
import yaml

from sitegen.cli import main
from sitegen.errors import Report
from sitegen.report import plural, summary_line

BASIC = Path(__file__).parent / "sites" / "basic"


def test_init_writes_a_workflow_that_builds_strict_and_deploys_to_pages(tmp_path, capsys):
    assert main(["init", str(tmp_path / "blog")]) == 0
    workflow = yaml.safe_load((tmp_path / "blog/.github/workflows/publish.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert "sitegen build" in runs  # strict by default: a failed check fails the job
    assert not any("--no-strict" in r for r in runs)
    assert any(s.get("uses", "").startswith("actions/upload-pages-artifact") for s in steps)
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages")
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}


def test_init_writes_the_settings_the_plugins_ask_for(tmp_path, capsys):
    assert main(["init", str(tmp_path / "blog")]) == 0
    config = tomllib.loads((tmp_path / "blog" / "sitegen.toml").read_text())
    assert config["verify"] == {"timeout": 60, "memory_mb": 2048}  # the verification plugin's
    assert config["plugins"]["feeds"]["id"].startswith("urn:uuid:")  # the feeds plugin's
    assert main(["build", "--source", str(tmp_path / "blog")]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    # every table it wrote is understood: the only warnings ask for the site's address
    assert all("no 'url' set" in line for line in warnings), warnings


def test_init_adds_the_settings_an_installed_plugin_asks_for(
    tmp_path, monkeypatch
):
    packages = tmp_path / "site-packages"
    (packages / "extraplug-1.0.dist-info").mkdir(parents=True)
    (packages / "extraplug_mod.py").write_text(
        "from sitegen.hooks import hookimpl\n\n"
        "@hookimpl\n"
        "def sitegen_new_site(root):\n"
        "    return '[plugins.extraplug]\\ncolour = \"blue\"\\n'\n"
    )
    (packages / "extraplug-1.0.dist-info" / "entry_points.txt").write_text(
        "[sitegen.plugins]\nextraplug = extraplug_mod\n"
    )
    monkeypatch.syspath_prepend(str(packages))
    assert main(["init", "-q", str(tmp_path / "blog")]) == 0
    config = tomllib.loads((tmp_path / "blog" / "sitegen.toml").read_text())
    assert config["plugins"]["extraplug"] == {"colour": "blue"}
    assert "verify" in config


def test_init_into_a_file_or_non_empty_folder_exits_2(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["init", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["init", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err


def test_new_post_has_no_empty_excerpt_and_a_referenced_label(tmp_path, capsys):
    assert main(["new", 'Say "hi"', "--source", str(tmp_path)]) == 0
    (post,) = (tmp_path / "posts").glob("*.md")
    text = post.read_text()
    assert 'excerpt: ""' not in text
    assert "\\label{eq:grad}" in text and "\\eqref{eq:grad}" in text
    # the first paragraph is the excerpt on the index: a whole sentence, with its math
    first = text.split("---", 2)[2].strip().split("\n\n")[0]
    assert first.endswith(".") and "$" in first
    assert yaml.safe_load(text.split("---")[1])["title"] == 'Say "hi"'
    assert main(["new", 'Say "hi"', "--source", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_a_new_post_ends_with_what_the_plugins_add(tmp_path, capsys):
    # the verify block is the verification plugin's (sitegen_new_post): off, it is not there
    assert main(["new", "With code", "--source", str(tmp_path / "on")]) == 0
    (post,) = (tmp_path / "on" / "posts").glob("*.md")
    assert "```python verify" in post.read_text() and "check_grad(" in post.read_text()
    (tmp_path / "off").mkdir()
    (tmp_path / "off" / "sitegen.toml").write_text("[plugins.gradcheck]\nenabled = false\n")
    assert main(["new", "Without code", "--source", str(tmp_path / "off")]) == 0
    (post,) = (tmp_path / "off" / "posts").glob("*.md")
    assert "```python verify" not in post.read_text()
    assert "\\label{eq:grad}" in post.read_text()


def test_build_where_there_is_no_site_refuses(tmp_path, capsys):
    assert main(["build", "--source", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no site here" in err and "sitegen init" in err
    assert not (tmp_path / "_site").exists()
    assert main(["build", "--source", str(tmp_path / "nowhere")]) == 2


def test_plurals_in_the_summary():
    assert plural(1, "page") == "1 page" and plural(2, "page") == "2 pages"
    report = Report()
    report.error("a.md", 1, "x")
    line = summary_line(1, 1, 1, 0.5, "_site", report)
    assert "built 1 post and 1 page (1 file)" in line and "(1 error, 0 warnings)" in line


@pytest.mark.parametrize("command", ["build", "serve", "check", "new", "init", "deploy"])
def test_every_command_has_examples_and_documented_options(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and f"sitegen {command}" in out
    assert "-q, --quiet" in out and "print only errors" in out
    if command == "serve":
        assert "(default: 127.0.0.1)" in out and "(default: 8000)" in out


def test_top_level_help_lists_examples_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "sitegen deploy" in out and "exit codes: 0 success" in out


def test_a_taken_port_suggests_another(tmp_path, capsys):
    shutil.copytree(BASIC, tmp_path / "s")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        code = main(["serve", "--source", str(tmp_path / "s"), "--port", str(port)])
    finally:
        taken.close()
    assert code == 2
    assert f"try --port {port + 1}" in capsys.readouterr().err


def test_check_json_with_a_missing_path_prints_a_document(tmp_path, capsys):
    shutil.copytree(BASIC, tmp_path / "s")
    code = main(["check", "--json", "--source", str(tmp_path / "s"), str(tmp_path / "nope.md")])
    assert code == 2
    document = json.loads(capsys.readouterr().out)
    assert document["checks"] == [] and "no such file" in document["diagnostics"][0]


def test_pages_link_a_favicon_the_site_can_replace(tmp_path, capsys):
    shutil.copytree(BASIC, tmp_path / "s")
    assert main(["build", "-q", "--no-verify", "--source", str(tmp_path / "s")]) == 0
    index = (tmp_path / "s/_site/index.html").read_text()
    assert '<link rel="icon" href="/theme/favicon.svg" type="image/svg+xml">' in index
    assert (tmp_path / "s/_site/theme/favicon.svg").is_file()
    with (tmp_path / "s/sitegen.toml").open("a") as fh:
        fh.write('\nfavicon = "/assets/notes.txt"\n')
    assert main(["build", "-q", "--no-verify", "--source", str(tmp_path / "s")]) == 0
    index = (tmp_path / "s/_site/index.html").read_text()
    assert '<link rel="icon" href="/assets/notes.txt">' in index


def test_badges_count_in_good_english():
    from sitegen_plugins.gradcheck import render
    from sitegen_plugins.gradcheck.coverage import Coverage

    one = render.summary_badge([{"status": "fail"}], 0, Coverage(stated=1, verified=0), False)
    assert "1 of 1 check failed" in one
    cover = render.summary_badge([{"status": "pass"}], 0, Coverage(stated=1, verified=1), False)
    assert "1 of 1 stated gradient verified" in cover


def test_failed_checks_are_counted_as_errors_not_warnings(tmp_path, capsys):
    shutil.copytree(Path(__file__).parent / "sites" / "gradcheck", tmp_path / "g")
    assert main(["build", "--source", str(tmp_path / "g")]) == 1
    captured = capsys.readouterr()
    assert "posts/2024-01-02-wrong.md:14: error: check ∂L/∂W failed" in captured.err
    assert "(2 errors, " in captured.out  # the failed check and the block that raised
    # sitegen check shows each failed check once: as its row, not again as a diagnostic
    assert main(["check", "--source", str(tmp_path / "g")]) == 1
    captured = capsys.readouterr()
    assert "error: check" not in captured.err and "FAILED" in captured.out
