"""Dumps are files written once under DUMPS_DIR, keyed by the graph, and streamed from there."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests
from flask import Flask
from werkzeug.test import TestResponse

from palmyra_graph.graph import dumpfiles, formats
from palmyra_graph.graph.export import export_files
from palmyra_graph.graph.loader import load
from palmyra_graph.query.store import open_store
from palmyra_graph.testing import LiveServer, wait_until
from palmyra_graph.web import create_app

FIXTURES = Path(__file__).parent.parent / "export" / "fixtures"
MINI = [str(FIXTURES / "mini-ontology.ttl"), str(FIXTURES / "mini-data.ttl")]


def _app(directory: Path) -> Flask:
    return create_app({"TESTING": True, "DATA_FILES": MINI, "DUMPS_DIR": str(directory)})


def _get(app: Flask, url: str) -> TestResponse:
    response = app.test_client().get(url)
    response.get_data()
    response.close()
    return response


def test_a_dump_is_written_once_and_found_by_another_app(tmp_path: Path) -> None:
    first = _get(_app(tmp_path), "/dumps/palmyra.nt")
    [written] = tmp_path.glob("*/palmyra.nt")
    assert written.read_bytes() == first.data == export_files(MINI, formats.NTRIPLES)
    stamp = written.stat().st_mtime_ns, written.stat().st_ino
    second = _get(_app(tmp_path), "/dumps/palmyra.nt")
    assert second.data == first.data
    assert (written.stat().st_mtime_ns, written.stat().st_ino) == stamp


def test_a_dump_is_streamed_from_its_file_not_kept_by_the_process(tmp_path: Path) -> None:
    app = _app(tmp_path)
    assert _get(app, "/dumps/palmyra.ttl").status_code == 200
    [written] = tmp_path.glob("*/palmyra.ttl")
    written.write_bytes(b"# what the file now holds\n")  # a process holding bytes would not see it
    assert _get(app, "/dumps/palmyra.ttl").data == b"# what the file now holds\n"


def test_concurrent_first_requests_export_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = dumpfiles.export_files

    def counted(files: list[Path], fmt: formats.Format) -> bytes:
        calls.append(fmt.suffix)
        return real(files, fmt)

    monkeypatch.setattr(dumpfiles, "export_files", counted)
    app = _app(tmp_path)
    answers: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: answers.append(_get(app, "/dumps/palmyra.jsonld").data))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [".jsonld"]
    assert answers == [export_files(MINI, formats.JSONLD)] * 4


def test_the_index_lists_the_size_of_written_dumps_only(tmp_path: Path) -> None:
    app = _app(tmp_path)
    before = _get(app, "/dumps/").data.decode("utf-8")
    assert before.count("written on first download") == len(formats.DUMP_FORMATS)
    size = len(_get(app, "/dumps/palmyra.trig").data)
    after = _get(app, "/dumps/").data.decode("utf-8")
    assert after.count("written on first download") == len(formats.DUMP_FORMATS) - 1
    assert f"{size:,}" in after


def test_an_unwritable_dumps_dir_is_a_500_that_names_it(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    response = _get(_app(blocker), "/dumps/palmyra.ttl")
    assert response.status_code == 500
    assert str(blocker) in response.get_data(as_text=True)


@pytest.mark.live
def test_serve_writes_every_dump_at_start_up_before_any_request(tmp_path: Path) -> None:
    data = [arg for path in MINI for arg in ("--data", path)]
    server = LiveServer(*data, env={"PALMYRA_DUMPS_DIR": str(tmp_path)})
    try:
        wait_until(
            lambda: len(list(tmp_path.glob("*/palmyra.*"))) == len(formats.DUMP_FORMATS),
            what="every dump written",
            timeout=60,
        )
        for fmt in formats.DUMP_FORMATS:
            [written] = tmp_path.glob(f"*/palmyra{fmt.suffix}")
            assert written.read_bytes() == export_files(MINI, fmt), fmt.names[0]
            response = requests.get(f"{server.url}/dumps/palmyra{fmt.suffix}", timeout=30)
            assert response.content == written.read_bytes(), fmt.names[0]
        assert not list(tmp_path.glob("*/.palmyra*"))  # no temporary file left behind
        [store] = tmp_path.glob(f"*/{dumpfiles.LOOKUP_STORE}")  # written first, for lookups
        assert len(open_store(store)) == len(load(MINI).store)
    finally:
        server.stop()
