"""``palmyra-graph validate``: check the graph against the SHACL shapes, report by severity.

Exit codes: 0 no violations (warnings are printed), 1 the data does not conform, 2 a file
cannot be read or parsed (the CLI group prints the LoadError with file and line).
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rdflib import URIRef

from palmyra_graph.graph.validate import SEVERITIES, Report, Result, compact, validate

_HEADINGS = {"Violation": "Violations", "Warning": "Warnings", "Info": "Infos"}


@click.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--shapes",
    "shape_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="SHACL shapes file (repeatable); default: every file in the bundled shapes/.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "turtle", "json"]),
    default="text",
    show_default=True,
    help="text: readable, grouped by severity; turtle: the SHACL validation report graph; "
    "json: the structure documented in palmyra_graph.graph.validate.Report.to_dict.",
)
@click.option(
    "--no-ontology",
    is_flag=True,
    help="Do not add the bundled ontology to FILEs (when they carry their own vocabulary).",
)
@click.pass_context
def command(
    ctx: click.Context,
    files: tuple[Path, ...],
    shape_files: tuple[Path, ...],
    output_format: str,
    no_ontology: bool,
) -> None:
    """Validate FILEs (default: the bundled data) against the SHACL shapes.

    The bundled ontology is always validated with the FILEs, because the shapes need its
    typing (which properties are factual, the class hierarchy), unless --no-ontology is
    given. Exit 0 when there is no violation (warnings are printed), 1 when the data does
    not conform, 2 when a file cannot be read or parsed.
    """
    report = validate(files, shapes=shape_files or None, ontology=not no_ontology)
    if output_format == "turtle":
        click.echo(report.graph.serialize(format="turtle"))
    elif output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(report))
    ctx.exit(0 if report.conforms else 1)


def render_text(report: Report) -> str:
    """The report for a reader: each severity's results, then a one-line verdict."""
    lines: list[str] = []
    for severity in SEVERITIES:
        results = report.of(severity)
        if results:
            lines.append(f"{_HEADINGS[severity]} ({len(results)})")
            lines.extend(line for result in results for line in _result_lines(result))
            lines.append("")
    lines.append(_verdict(report))
    return "\n".join(lines)


def _result_lines(result: Result) -> list[str]:
    focus = compact(result.focus)
    heading = f"  {focus}  {result.focus_label}" if result.focus_label else f"  {focus}"
    details = [f"shape {compact(result.shape)}"]
    if result.path is not None:
        details.append(f"path {compact(result.path)}")
    if result.value is not None and result.value != result.focus:
        details.append(f"value {compact(result.value)}")
    lines = [heading, f"    {result.message}", "    " + " · ".join(details)]
    if result.sources:
        cited = ", ".join(_source_text(source.iri, source.number) for source in result.sources)
        lines.append(f"    sources: {cited}")
    return lines


def _source_text(iri: str, number: int | None) -> str:
    name = compact(URIRef(iri))
    return f"{name} (reference {number})" if number is not None else name


def _verdict(report: Report) -> str:
    counts = ", ".join(
        f"{len(report.of(severity))} {_HEADINGS[severity].lower()}" for severity in SEVERITIES
    )
    verdict = "conforms" if report.conforms else "does not conform"
    return f"{verdict}: {counts} ({report.seconds:.2f} s of SHACL validation)"
