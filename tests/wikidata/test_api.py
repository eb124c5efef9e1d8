"""The Action API client against the fake Wikidata on loopback: formats, etiquette, cache."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from palmyra_graph.errors import LinkError
from palmyra_graph.wikidata.api import WikidataClient

from .conftest import FakeWikidata, Trouble


def client(fake: FakeWikidata, **options: object) -> WikidataClient:
    return WikidataClient(fake.api_url, **options)  # type: ignore[arg-type]


def test_search_returns_hits_with_label_description_and_match(fake_wikidata: FakeWikidata) -> None:
    hits = client(fake_wikidata).search("Suheil al-Hassan")
    assert {h.qid for h in hits} == {"Q9990000001", "Q9990000002"}
    first = next(h for h in hits if h.qid == "Q9990000001")
    assert first.label == "Suheil al-Hassan"
    assert first.description == "test item: Syrian army officer"
    assert first.match_type == "label"


def test_search_matches_an_alias(fake_wikidata: FakeWikidata) -> None:
    hits = client(fake_wikidata).search("ISIL")
    assert [(h.qid, h.match_type, h.matched) for h in hits] == [("Q2429253", "alias", "ISIL")]


def test_get_items_reads_labels_aliases_and_instance_of(fake_wikidata: FakeWikidata) -> None:
    found = client(fake_wikidata).get_items(["Q2429253", "Q9990000001"])
    isil = found["Q2429253"].item
    assert isil is not None and isil.label() == "Islamic State (ISIL)"
    assert isil.names() == ("Islamic State (ISIL)", "Islamic State", "ISIL")
    person = found["Q9990000001"].item
    assert person is not None and person.instance_of == ("Q5",)


def test_a_redirect_is_keyed_by_the_requested_id_and_names_its_target(
    fake_wikidata: FakeWikidata,
) -> None:
    lookup = client(fake_wikidata).get_items(["Q9990000004"])["Q9990000004"]
    assert lookup.redirected_to == "Q9990000003"
    assert lookup.item is not None and lookup.item.qid == "Q9990000003"


def test_a_missing_item_is_reported_as_missing(fake_wikidata: FakeWikidata) -> None:
    lookup = client(fake_wikidata).get_items(["Q9990000005"])["Q9990000005"]
    assert lookup.missing and lookup.redirected_to is None


def test_every_request_sends_maxlag_json_and_a_descriptive_user_agent(
    fake_wikidata: FakeWikidata,
) -> None:
    client(fake_wikidata).get_items(["Q858"])
    params = fake_wikidata.requests[-1]
    assert params["maxlag"] == "5" and params["format"] == "json"
    assert params["action"] == "wbgetentities" and params["ids"] == "Q858"
    agent = fake_wikidata.state.user_agents[-1]
    assert agent.startswith("palmyra-graph/") and "https://" in agent


@pytest.mark.parametrize("kind", ["maxlag", "429"])
def test_waits_for_retry_after_then_retries(fake_wikidata: FakeWikidata, kind: str) -> None:
    fake_wikidata.fail_next(Trouble(kind, retry_after=1))
    started = time.monotonic()
    found = client(fake_wikidata).get_items(["Q858"])
    assert time.monotonic() - started >= 1.0
    assert found["Q858"].item is not None
    assert len(fake_wikidata.requests) == 2


def test_gives_up_after_the_bounded_retries(fake_wikidata: FakeWikidata) -> None:
    waits: list[float] = []
    fake_wikidata.fail_next(*[Trouble("maxlag", retry_after=30)] * 5)
    with pytest.raises(LinkError, match="after 2 retries"):
        client(fake_wikidata, max_retries=2, max_wait=0.0, sleep=waits.append).get_items(["Q858"])
    assert len(fake_wikidata.requests) == 3
    assert waits == [0.0, 0.0]  # Retry-After 30 capped by max_wait


def test_answers_are_cached_on_disk(fake_wikidata: FakeWikidata, tmp_path: Path) -> None:
    first = client(fake_wikidata, cache_dir=tmp_path).search("Palmyra")
    second = client(fake_wikidata, cache_dir=tmp_path).search("Palmyra")
    assert first == second and first
    assert len(fake_wikidata.requests) == 1
    assert list(tmp_path.rglob("*.json"))


def test_an_error_answer_is_not_cached(fake_wikidata: FakeWikidata, tmp_path: Path) -> None:
    fake_wikidata.fail_next(Trouble("maxlag", retry_after=0))
    with pytest.raises(LinkError):
        client(fake_wikidata, cache_dir=tmp_path, max_retries=0).search("Palmyra")
    assert not list(tmp_path.rglob("*.json"))


def test_a_malformed_id_is_refused_before_any_request(fake_wikidata: FakeWikidata) -> None:
    with pytest.raises(LinkError, match="not a Wikidata item id"):
        client(fake_wikidata).get_items(["P31"])
    assert fake_wikidata.requests == []


def test_an_unreachable_api_is_a_link_error() -> None:
    from palmyra_graph.testing import free_port

    dead = WikidataClient(f"http://127.0.0.1:{free_port()}/w/api.php", timeout=2)
    with pytest.raises(LinkError, match="cannot reach"):
        dead.search("Palmyra")
