"""A polite client for Wikidata's Action API: ``wbsearchentities`` and ``wbgetentities``.

- https://www.wikidata.org/w/api.php?action=help&modules=wbsearchentities
- https://www.wikidata.org/w/api.php?action=help&modules=wbgetentities
- Etiquette: a descriptive User-Agent (https://meta.wikimedia.org/wiki/User-Agent_policy),
  ``maxlag=5`` and honouring ``Retry-After`` on a ``maxlag`` error or HTTP 429/503
  (https://www.mediawiki.org/wiki/Manual:Maxlag_parameter), with a bounded number of retries.

Answers are cached on disk (one JSON file per request) so that repeated runs do not ask again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import requests

from palmyra_graph import __version__
from palmyra_graph.errors import LinkError

DEFAULT_API = "https://www.wikidata.org/w/api.php"
USER_AGENT = (
    f"palmyra-graph/{__version__} (https://w3id.org/palmyra/; Wikidata link reconciler "
    f"and checker) python-requests/{requests.__version__}"
)
#: wbgetentities takes at most 50 ids per request.
BATCH = 50
QID = re.compile(r"^Q[1-9][0-9]*$")
_RETRY_STATUSES = {429, 503}


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/palmyra-graph/wikidata`` (``~/.cache/…`` when the variable is unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "palmyra-graph" / "wikidata"


def is_qid(text: str) -> bool:
    """True when ``text`` is a Wikidata item identifier such as ``Q5747``."""
    return bool(QID.match(text))


@dataclass(frozen=True)
class Item:
    """The parts of a Wikidata item the reconciler and the checker compare with our entity."""

    qid: str
    labels: Mapping[str, str] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    instance_of: tuple[str, ...] = ()
    subclass_of: tuple[str, ...] = ()

    def label(self, language: str = "en") -> str:
        """The label in ``language``, or the empty string."""
        return self.labels.get(language, "")

    def names(self, language: str = "en") -> tuple[str, ...]:
        """Label and aliases in ``language``."""
        label = self.labels.get(language)
        return ((label,) if label else ()) + tuple(self.aliases.get(language, ()))


@dataclass(frozen=True)
class Lookup:
    """What Wikidata says about one requested id: the item, a redirect, or nothing (deleted)."""

    requested: str
    item: Item | None
    redirected_to: str | None = None

    @property
    def missing(self) -> bool:
        return self.item is None


@dataclass(frozen=True)
class SearchHit:
    """One result of ``wbsearchentities``."""

    qid: str
    label: str
    description: str
    matched: str
    match_type: str


class WikidataClient:
    """Calls the Action API at ``api_url`` with retries and an on-disk cache.

    Args:
        api_url: the ``api.php`` URL (a local stand-in in tests).
        cache_dir: where answers are kept; None disables the cache.
        user_agent: sent with every request.
        max_retries: retries after a ``maxlag`` error or HTTP 429/503 before giving up.
        max_wait: the longest pause honoured from one ``Retry-After`` (seconds).
        max_age: seconds a cached answer is reused.
        timeout: seconds to wait for one HTTP answer.
    """

    def __init__(
        self,
        api_url: str = DEFAULT_API,
        *,
        cache_dir: Path | None = None,
        user_agent: str = USER_AGENT,
        max_retries: int = 3,
        max_wait: float = 60.0,
        max_age: float = 86_400.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = api_url
        self.cache_dir = cache_dir
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.max_age = max_age
        self.timeout = timeout
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.requests_sent = 0

    def search(self, text: str, *, language: str = "en", limit: int = 7) -> list[SearchHit]:
        """Items whose label or alias matches ``text`` (``wbsearchentities``), best first."""
        answer = self.call(
            {
                "action": "wbsearchentities",
                "search": text,
                "language": language,
                "uselang": language,
                "type": "item",
                "limit": str(limit),
            }
        )
        return [_hit(entry) for entry in answer.get("search", [])]

    def get_items(self, qids: Iterable[str], *, language: str = "en") -> dict[str, Lookup]:
        """Fetch items by id (``wbgetentities``), following redirects; keyed by requested id.

        Raises:
            LinkError: an id is not a QID, or the API fails after the bounded retries.
        """
        wanted = list(dict.fromkeys(qids))
        for qid in wanted:
            if not is_qid(qid):
                raise LinkError(f"not a Wikidata item id: {qid!r}")
        found: dict[str, Lookup] = {}
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start : start + BATCH]
            answer = self.call(
                {
                    "action": "wbgetentities",
                    "ids": "|".join(batch),
                    "props": "labels|descriptions|aliases|claims",
                    "languages": language,
                    "redirects": "yes",
                }
            )
            found.update(_lookups(answer, batch))
        return found

    def call(self, params: Mapping[str, str]) -> dict[str, Any]:
        """One API request (``format=json``, ``maxlag=5``), from the cache when fresh."""
        full = {**params, "format": "json", "maxlag": "5"}
        cached = self._cached(full)
        if cached is not None:
            return cached
        answer = self._fetch(full)
        self._store(full, answer)
        return answer

    def _fetch(self, params: Mapping[str, str]) -> dict[str, Any]:
        for attempt in range(self.max_retries + 1):
            response = self._get(params)
            answer = _json(response, self.api_url)
            wait = _retry_after(response, answer)
            if wait is None:
                _raise_api_error(answer, self.api_url)
                return answer
            if attempt < self.max_retries:
                self.sleep(min(wait, self.max_wait))
        raise LinkError(
            f"Wikidata API still lagged or rate-limited after {self.max_retries} retries",
            where=self.api_url,
        )

    def _get(self, params: Mapping[str, str]) -> requests.Response:
        self.requests_sent += 1
        try:
            return self.session.get(self.api_url, params=dict(params), timeout=self.timeout)
        except requests.RequestException as exc:
            raise LinkError(f"cannot reach the Wikidata API: {exc}", where=self.api_url) from exc

    def _cache_file(self, params: Mapping[str, str]) -> Path | None:
        if self.cache_dir is None:
            return None
        key = json.dumps([self.api_url, sorted(params.items())], ensure_ascii=False)
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.json"

    def _cached(self, params: Mapping[str, str]) -> dict[str, Any] | None:
        path = self._cache_file(params)
        if path is None or not path.is_file():
            return None
        if time.time() - path.stat().st_mtime > self.max_age:
            return None
        try:
            answer: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a damaged cache entry is asked again, not trusted
        return answer

    def _store(self, params: Mapping[str, str], answer: dict[str, Any]) -> None:
        path = self._cache_file(params)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)


def _json(response: requests.Response, where: str) -> dict[str, Any]:
    if response.status_code in _RETRY_STATUSES:
        return {}
    if response.status_code != 200:
        raise LinkError(f"Wikidata API answered HTTP {response.status_code}", where=where)
    try:
        answer = response.json()
    except ValueError as exc:
        raise LinkError("Wikidata API answer is not JSON", where=where) from exc
    if not isinstance(answer, dict):
        raise LinkError("Wikidata API answer is not a JSON object", where=where)
    return answer


def _retry_after(response: requests.Response, answer: Mapping[str, Any]) -> float | None:
    """Seconds to wait before retrying, or None when the answer is final."""
    lagged = answer.get("error", {}).get("code") == "maxlag"
    if response.status_code not in _RETRY_STATUSES and not lagged:
        return None
    header = response.headers.get("Retry-After", "")
    if header.strip().isdigit():
        return float(header)
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return 5.0  # the lag Wikidata asks bots to tolerate (maxlag=5)


def _raise_api_error(answer: Mapping[str, Any], where: str) -> None:
    error = answer.get("error")
    if error:
        code, info = error.get("code", "?"), error.get("info", "")
        raise LinkError(f"Wikidata API error {code}: {info}", where=where)


def _hit(entry: Mapping[str, Any]) -> SearchHit:
    match = entry.get("match", {})
    return SearchHit(
        qid=str(entry.get("id", "")),
        label=str(entry.get("label", "")),
        description=str(entry.get("description", "")),
        matched=str(match.get("text", "")),
        match_type=str(match.get("type", "")),
    )


def _lookups(answer: Mapping[str, Any], requested: Sequence[str]) -> dict[str, Lookup]:
    """Key each entity by the id that was asked for; a redirect names it in ``redirects.from``."""
    found: dict[str, Lookup] = {}
    for key, entity in answer.get("entities", {}).items():
        redirect = entity.get("redirects") or {}
        asked = redirect.get("from") or entity.get("id") or key
        if "missing" in entity:
            found[asked] = Lookup(requested=asked, item=None)
            continue
        target = redirect.get("to")
        found[asked] = Lookup(requested=asked, item=_item(entity), redirected_to=target)
    for qid in requested:
        if qid not in found:
            raise LinkError(f"Wikidata API answer does not mention {qid}")
    return found


def _item(entity: Mapping[str, Any]) -> Item:
    return Item(
        qid=str(entity["id"]),
        labels={lang: v["value"] for lang, v in entity.get("labels", {}).items()},
        descriptions={lang: v["value"] for lang, v in entity.get("descriptions", {}).items()},
        aliases={
            lang: tuple(a["value"] for a in values)
            for lang, values in entity.get("aliases", {}).items()
        },
        instance_of=tuple(_item_values(entity.get("claims", {}).get("P31", []))),
        subclass_of=tuple(_item_values(entity.get("claims", {}).get("P279", []))),
    )


def _item_values(statements: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    for statement in statements:
        if statement.get("rank") == "deprecated":
            continue
        value = statement.get("mainsnak", {}).get("datavalue", {}).get("value")
        if isinstance(value, dict) and "id" in value:
            yield str(value["id"])
