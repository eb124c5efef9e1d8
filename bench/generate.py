"""Synthetic offensives with the model of ``docs/data-model.md``, streamed to N-Triples or Turtle.

Each offensive has places, two sides with their members, commanders, an article of its own
whose references (numbered from 1 in that article, ``pal:inArticle``) are its sources, figures
and about fifteen facts; every fact is a plain triple whose predicate is a ``pal:FactualProperty``
and is described by one claim node (IRI from ``palmyra_graph.graph.claims.claim_iri``) carrying
``prov:wasDerivedFrom`` sources and, for casualty figures, contested claimants. Every
synthetic IRI has a ``syn-`` slug so it never collides with the curated data, and every
label says "Synthetic": nothing here is a fact about the real offensive.

Output is written line by line (no graph is built in memory), deterministic for a seed, and
ends at a whole offensive: the triple count is the first whole offensive at or past ``N``.

    python bench/generate.py --triples 1000000 -o /tmp/syn.nt
    python bench/generate.py --triples 10000 --seed 7 -o /tmp/syn.ttl
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections.abc import Generator as Gen
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD

from palmyra_graph.graph import claims, namespaces
from palmyra_graph.graph.claims import claim_iri
from palmyra_graph.graph.namespaces import FIGURE, ID, PAL, PAV, PREFIXES, SCHEMA, SOURCE

Term = URIRef | Literal
Triple = tuple[URIRef, URIRef, Term]
#: A fact to claim, with the qualifiers of its claim node.
Fact = tuple[Triple, dict[URIRef, Term]]

#: Shared pools emitted once at the start; offensives draw from them.
STATES = 24
GROUPS = 16
PUBLISHERS = 12
CLAIMANTS = 6
#: A new parent conflict every this many offensives.
OFFENSIVES_PER_CONFLICT = 50
#: Sources cited by each offensive.
SOURCES_PER_OFFENSIVE = 4

_EPOCH = date(1990, 1, 1)
_EN = "en"


def _lit(text: str) -> Literal:
    return Literal(text, lang=_EN)


def _date(day: date) -> Literal:
    return Literal(day.isoformat(), datatype=XSD.date)


def _int(value: int, datatype: URIRef = XSD.nonNegativeInteger) -> Literal:
    return Literal(str(value), datatype=datatype)


def _bool(value: bool) -> Literal:
    return Literal("true" if value else "false", datatype=XSD.boolean)


class Generator:
    """Yields the triples of synthetic offensives, deterministically for a seed."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)

    def pools(self) -> Iterator[Triple]:
        """The shared states, armed groups, publishers and claimants."""
        for kind, cls, count in (
            ("state", PAL.State, STATES),
            ("group", PAL.ArmedGroup, GROUPS),
            ("publisher", PAL.Publisher, PUBLISHERS),
            ("claimant", PAL.Organization, CLAIMANTS),
        ):
            for k in range(count):
                node = ID[f"syn-{kind}-{k}"]
                yield node, RDF.type, cls
                yield node, RDFS.label, _lit(f"Synthetic {kind} {k}")

    def offensive(self, i: int) -> Iterator[Triple]:
        """Every triple of offensive ``i``: its entities, sources, figures, facts and claims."""
        rng = self.rng
        event = ID[f"syn-offensive-{i}"]
        sources = [SOURCE[f"syn-{i}-{n}"] for n in range(1, SOURCES_PER_OFFENSIVE + 1)]
        start = _EPOCH + timedelta(days=rng.randrange(12_000))
        end = start + timedelta(days=rng.randrange(3, 120))
        yield event, RDF.type, PAL.MilitaryOffensive
        yield event, RDFS.label, _lit(f"Synthetic offensive {i}")
        yield from self._conflict(i)
        yield from self._sources(i, sources, end)
        place = ID[f"syn-place-{i}"]
        yield place, RDF.type, PAL.Place
        yield place, RDFS.label, _lit(f"Synthetic place {i}")
        facts: list[Fact] = [
            ((event, PAL.partOf, ID[f"syn-conflict-{i // OFFENSIVES_PER_CONFLICT}"]), {}),
            ((event, PAL.startDate, _date(start)), {}),
            ((event, PAL.endDate, _date(end)), {}),
            ((event, PAL.duration, Literal(f"{(end - start).days} days")), {}),
            ((event, PAL.location, place), {}),
            ((event, PAL.result, _lit(f"Synthetic result {rng.randrange(5)}")), {}),
        ]
        if i > 0:
            facts.append(((event, PAL.follows, ID[f"syn-offensive-{i - 1}"]), {}))
        for side_key in ("a", "b"):
            side_facts = yield from self._side(i, side_key, event, start)
            facts.extend(side_facts)
        for fact, qualifiers in facts:
            yield fact
            yield from self._claim(fact, rng.sample(sources, rng.randint(1, 2)), qualifiers)

    def _conflict(self, i: int) -> Iterator[Triple]:
        if i % OFFENSIVES_PER_CONFLICT == 0:
            conflict = ID[f"syn-conflict-{i // OFFENSIVES_PER_CONFLICT}"]
            yield conflict, RDF.type, PAL.Conflict
            yield conflict, RDFS.label, _lit(f"Synthetic conflict {i // OFFENSIVES_PER_CONFLICT}")

    def _sources(self, i: int, sources: list[URIRef], end: date) -> Iterator[Triple]:
        """Offensive ``i``'s article and its references, numbered 1, 2, ... in that article."""
        rng = self.rng
        article = SOURCE[f"syn-article-{i}"]
        yield article, RDF.type, PAL.Source
        yield article, RDFS.label, _lit(f"Synthetic article {i}")
        for n, source in enumerate(sources, start=1):
            published = end + timedelta(days=rng.randrange(-30, 60))
            headline = f"Synthetic headline {i}-{n}"
            yield source, RDF.type, PAL.Reference
            yield source, RDF.type, SCHEMA.NewsArticle
            yield source, PAL.referenceNumber, _int(n, XSD.integer)
            yield source, PAL.inArticle, article
            yield source, SCHEMA.headline, _lit(headline)
            yield source, SCHEMA.publisher, ID[f"syn-publisher-{rng.randrange(PUBLISHERS)}"]
            yield source, SCHEMA.datePublished, _date(published)
            yield source, PAV.retrievedOn, _date(published + timedelta(days=rng.randrange(400)))
            yield source, PAL.citationText, Literal(f'"{headline}". Synthetic publisher.')
            yield source, PAL.citedTimes, _int(rng.randint(1, 3), XSD.integer)

    def _side(self, i: int, key: str, event: URIRef, start: date) -> Gen[Triple, None, list[Fact]]:
        """A side with members, a commander and two contested casualty figures.

        Yields the entities' own triples and returns the facts (with qualifiers) to claim.
        """
        rng = self.rng
        side = ID[f"syn-side-{i}-{key}"]
        commander = ID[f"syn-person-{i}-{key}"]
        yield side, RDF.type, PAL.Side
        yield side, RDFS.label, _lit(f"Synthetic side {i}{key}")
        yield commander, RDF.type, PAL.Person
        yield commander, RDFS.label, _lit(f"Synthetic commander {i}{key}")
        members = [
            ID[f"syn-state-{rng.randrange(STATES)}"],
            ID[f"syn-group-{rng.randrange(GROUPS)}"],
        ]
        facts: list[Fact] = [
            ((event, PAL.belligerent, side), {}),
            ((event, PAL.commander, commander), {PAL.role: _lit("Synthetic commander")}),
            ((commander, PAL.militaryRank, Literal(f"Rank {rng.randrange(8)}")), {}),
        ]
        facts += [((side, PAL.sideMember, member), {}) for member in dict.fromkeys(members)]
        strength = FIGURE[f"syn-{i}-{key}-strength"]
        yield from self._figure(strength, PAL.Soldiers, side, rng.randrange(100, 20_000))
        facts.append(((event, PAL.strength, strength), {}))
        for n, claimant in enumerate(rng.sample(range(CLAIMANTS), 2)):
            figure = FIGURE[f"syn-{i}-{key}-killed-{n}"]
            yield from self._figure(figure, PAL.Killed, side, rng.randrange(0, 5_000))
            qualifiers: dict[URIRef, Term] = {PAL.accordingTo: ID[f"syn-claimant-{claimant}"]}
            if n:
                qualifiers[PAL.pointInTime] = _date(start + timedelta(days=rng.randrange(1, 60)))
            facts.append(((event, PAL.casualties, figure), qualifiers))
        return facts

    def _figure(
        self, figure: URIRef, measure: URIRef, party: URIRef, amount: int
    ) -> Iterator[Triple]:
        lower = self.rng.random() < 0.3
        yield figure, RDF.type, PAL.Figure
        yield figure, PAL.amount, _int(amount)
        yield figure, PAL.isLowerBound, _bool(lower)
        yield figure, PAL.measure, measure
        yield figure, PAL.party, party
        plus = "+" if lower else ""
        yield figure, RDFS.label, _lit(f"{amount}{plus} {measure.fragment.lower()} (synthetic)")

    def _claim(
        self, fact: Triple, sources: list[URIRef], qualifiers: dict[URIRef, Term]
    ) -> Iterator[Triple]:
        s, p, o = fact
        claim = claim_iri(s, p, o)
        yield claim, RDF.type, PAL.Claim
        yield claim, RDF.type, RDF.Statement
        yield claim, RDF.subject, s
        yield claim, RDF.predicate, p
        yield claim, RDF.object, o
        for source in sources:
            yield claim, PROV.wasDerivedFrom, source
        for prop, value in qualifiers.items():
            yield claim, prop, value


def triples(count: int, *, seed: int = 0) -> Iterator[Triple]:
    """At least ``count`` triples: the pools, then whole offensives until ``count`` is reached."""
    generator = Generator(seed)
    emitted = 0
    for triple in generator.pools():
        emitted += 1
        yield triple
    i = 0
    while emitted < count:
        for triple in generator.offensive(i):
            emitted += 1
            yield triple
        i += 1


# --- serialisation ----------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _literal(term: Literal, iri: _IriFormatter) -> str:
    text = f'"{str(term).translate(_ESCAPES)}"'
    if term.language:
        return f"{text}@{term.language}"
    if term.datatype and term.datatype != XSD.string:
        return f"{text}^^{iri(term.datatype)}"
    return text


class _IriFormatter:
    """Full ``<IRI>`` for N-Triples; a prefixed name for Turtle where the local part allows."""

    def __init__(self, prefixed: bool) -> None:
        self.prefixes = {ns: p for p, ns in PREFIXES.items()} if prefixed else {}

    def __call__(self, iri: str) -> str:
        if self.prefixes:
            cut = max(iri.rfind("#"), iri.rfind("/")) + 1
            prefix = self.prefixes.get(iri[:cut])
            local = iri[cut:]
            if prefix is not None and local and local.replace("-", "").replace("_", "").isalnum():
                return f"{prefix}:{local}"
        return f"<{iri}>"


def write(stream: TextIO, items: Iterator[Triple], *, turtle: bool) -> int:
    """Write triples as N-Triples (or Turtle with prefixes); returns how many were written."""
    iri = _IriFormatter(prefixed=turtle)
    if turtle:
        stream.writelines(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items())
    count = 0
    lines: list[str] = []
    for s, p, o in items:
        obj = _literal(o, iri) if isinstance(o, Literal) else iri(o)
        lines.append(f"{iri(s)} {iri(p)} {obj} .\n")
        count += 1
        if len(lines) >= 10_000:
            stream.writelines(lines)
            lines.clear()
    stream.writelines(lines)
    return count


def generate_file(path: Path, count: int, *, seed: int = 0) -> int:
    """Write a synthetic file (Turtle for ``.ttl``, else N-Triples); returns its triple count."""
    with path.open("w", encoding="utf-8") as stream:
        return write(stream, triples(count, seed=seed), turtle=path.suffix == ".ttl")


#: Where generated files are kept between runs (see :func:`cached_file`).
CACHE = Path(__file__).resolve().parent / ".cache"


def cached_file(count: int, *, seed: int = 0) -> Path:
    """The synthetic N-Triples file of ``count`` triples, generated once into ``bench/.cache``.
    Its name carries a digest of this generator's source and of the package modules that
    shape its output (claim IRIs, namespaces), so a changed generator never reuses a file an
    earlier version wrote (its output would be measured as this one's)."""
    digest = hashlib.sha256()
    for module in (__file__, claims.__file__, namespaces.__file__):
        digest.update(Path(module).read_bytes())
    path = CACHE / f"synthetic-{count}-seed{seed}-{digest.hexdigest()[:12]}.nt"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        partial = path.with_suffix(".partial")
        generate_file(partial, count, seed=seed)
        partial.replace(path)  # complete or absent: a stopped run leaves no short file
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--triples N -o FILE [--seed S]``; prints the count and time to stderr."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, required=True, help="at least this many triples")
    parser.add_argument("-o", "--output", type=Path, required=True, help=".nt or .ttl file")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.triples < 0:
        parser.error("--triples must be >= 0")
    started = time.perf_counter()
    count = generate_file(args.output, args.triples, seed=args.seed)
    elapsed = time.perf_counter() - started
    print(f"{args.output}: {count} triples in {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
