"""``wikidata check``: every linked item fetched again; wrong, redirected, deleted reported."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from palmyra_graph.cli import main
from palmyra_graph.wikidata.api import WikidataClient
from palmyra_graph.wikidata.check import check_links
from palmyra_graph.wikidata.links import load_graph

from .conftest import FakeWikidata


def _relink(data_file: Path, old: str, new: str) -> None:
    """Point one owl:sameAs at another item (its mapping node keeps the old QID)."""
    text = data_file.read_text(encoding="utf-8")
    assert f"owl:sameAs wd:{old} " in text
    data_file.write_text(text.replace(f"owl:sameAs wd:{old} ", f"owl:sameAs wd:{new} "), "utf-8")


def test_the_bundled_links_all_fit_their_items(
    graph_files: list[Path], fake_wikidata: FakeWikidata
) -> None:
    reports = check_links(load_graph(graph_files), WikidataClient(fake_wikidata.api_url))
    assert len(reports) == 15
    assert {r.link.slug: r.problems for r in reports if not r.ok} == {}
    assert {r.link.qid for r in reports} <= set(fake_wikidata.state.items)


def test_wrong_redirected_and_deleted_links_are_reported_with_exit_1(
    runner: CliRunner, data_copy: Path, fake_wikidata: FakeWikidata
) -> None:
    _relink(data_copy, "Q41053", "Q9990000001")  # Hezbollah -> a human named Suheil al-Hassan
    _relink(data_copy, "Q52", "Q9990000004")  # Wikipedia -> a redirect
    _relink(data_copy, "Q328", "Q9990000005")  # English Wikipedia -> a missing item
    args = ["wikidata", "check", "--data", str(data_copy), "--api", fake_wikidata.api_url]
    result = runner.invoke(main, [*args, "--no-cache"])
    assert result.exit_code == 1, result.output
    problems = _problems(result.output)
    assert problems["hezbollah"] == {"names", "type", "provenance"}
    # the redirect target is the offensive test item, whose name does not fit either
    assert problems["wikipedia"] == {"redirected", "provenance", "names"}
    assert problems["english-wikipedia"] == {"deleted", "provenance"}
    assert set(problems) == {"hezbollah", "wikipedia", "english-wikipedia"}
    assert "15 links checked, 3 with problems" in result.output


def test_check_exits_0_when_every_link_fits(
    runner: CliRunner, data_copy: Path, fake_wikidata: FakeWikidata
) -> None:
    args = ["wikidata", "check", "--data", str(data_copy), "--api", fake_wikidata.api_url]
    result = runner.invoke(main, [*args, "--no-cache"])
    assert result.exit_code == 0, result.output
    assert _problems(result.output) == {}


def test_an_api_that_cannot_be_reached_is_exit_1(runner: CliRunner, data_copy: Path) -> None:
    from palmyra_graph.testing import free_port

    api = f"http://127.0.0.1:{free_port()}/w/api.php"
    result = runner.invoke(main, ["wikidata", "check", "--data", str(data_copy), "--api", api])
    assert result.exit_code == 1
    assert "cannot reach the Wikidata API" in result.output


def _problems(output: str) -> dict[str, set[str]]:
    """Parse the report: ``PROBLEM id:slug Q…`` then indented ``kind: detail`` lines."""
    found: dict[str, set[str]] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("PROBLEM"):
            current = line.split()[1].removeprefix("id:")
            found[current] = set()
        elif line.startswith(" ") and current:
            found[current].add(line.strip().split(":", 1)[0])
        else:
            current = None
    return found
