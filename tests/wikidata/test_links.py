"""``wikidata links``: the table and the SSSOM/TSV mapping set, read back and compared."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml
from click.testing import CliRunner

from palmyra_graph.cli import main
from palmyra_graph.graph.namespaces import OWL, WD
from palmyra_graph.graph.resources import default_data_files
from palmyra_graph.wikidata.links import entities, links, load_graph


def _checked_qids(shared_dir: Path) -> set[str]:
    rows = (line.split("\t") for line in (shared_dir / "wikidata.tsv").read_text().splitlines())
    return {row[2] for row in rows if len(row) > 2 and row[0] == "item"}


def test_every_link_is_a_checked_item_with_a_mapping_node(shared_dir: Path) -> None:
    found = links(load_graph())
    linked = [link for link in found if link.qid]
    assert linked and {link.qid for link in linked} <= _checked_qids(shared_dir)
    assert all(link.mapping is not None and link.mapping.justification for link in linked)


def test_table_lists_every_entity_once_with_its_item_or_unlinked(runner: CliRunner) -> None:
    result = runner.invoke(main, ["wikidata", "links"])
    assert result.exit_code == 0, result.output
    rows = [[*line.split()[:1], line.split()[-2:]] for line in result.output.splitlines()[1:]]
    graph = load_graph()
    assert [r[0] for r in rows] == [f"id:{str(e).rsplit('/', 1)[1]}" for e in entities(graph)]
    shown = {r[0]: ("unlinked" if r[1][-1] == "unlinked" else r[1][0]) for r in rows}
    assert shown["id:palmyra"] == "Q5747"
    assert shown["id:latakia"] == "unlinked"
    assert shown["id:cjtf-oir"] == "unlinked"


def test_sssom_has_the_metadata_block_and_one_row_per_link(runner: CliRunner) -> None:
    result = runner.invoke(main, ["wikidata", "links", "--format", "sssom"])
    assert result.exit_code == 0, result.output
    header = [line[1:] for line in result.output.splitlines() if line.startswith("#")]
    meta = yaml.safe_load("\n".join(header))
    assert {"curie_map", "mapping_set_id", "license"} <= set(meta)
    assert meta["license"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    body = "\n".join(line for line in result.output.splitlines() if not line.startswith("#"))
    rows = list(csv.DictReader(io.StringIO(body), delimiter="\t"))

    def expand(curie: str) -> str:
        prefix, local = curie.split(":", 1)
        return meta["curie_map"][prefix] + local if prefix in meta["curie_map"] else curie

    graph = load_graph(default_data_files())
    stated = {(str(s), str(o)) for s, o in graph.subject_objects(OWL.sameAs)}
    assert {(expand(r["subject_id"]), expand(r["object_id"])) for r in rows} == stated
    for r in rows:
        assert r["predicate_id"] == "owl:sameAs"
        assert expand(r["object_id"]).startswith(str(WD))
        assert r["mapping_justification"] == "semapv:ManualMappingCuration"
        assert r["mapping_date"] and r["subject_label"]
