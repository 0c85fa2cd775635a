from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from assistant.calculator import CalcRequest, calculate, list_partnerships
from assistant.calculator.money import pence, pounds
from assistant.errors import CalculationError
from integrations.cli.common import console, fail, print_json, user_errors

WHOLE_NUMBER_LIMITS = {  # option -> (what, maximum) for the error message
    "--pupils": ("pupils", "1 to 5,000 (with --derive: pupils across the subscribing schools)"),
    "--fe": ("forms of entry", "1 to 23"),
    "--scenario": ("scenario", "1 or 2"),
    "--members": ("member schools", "1 to 1,000"),
    "--schools": ("subscribing schools", "1 to 1,000"),
    "--pool": ("pool in pounds", "a whole number of pounds, e.g. 331000"),
}


def _whole(option: str, value: str | None) -> int | None:
    """Our own parsing, so a bad number gets the same kind of message as every other bad input."""
    if value is None:
        return None
    text = value.strip().replace(",", "").removeprefix("£")
    if not text.lstrip("-").isdigit():
        what, accepted = WHOLE_NUMBER_LIMITS[option]
        raise CalculationError(f"{option} must be a whole number ({what}: {accepted}); got '{value}'.")
    return int(text)


def _print_list(as_json: bool) -> None:
    partnerships = list_partnerships()
    if as_json:
        print_json(partnerships)
        return
    table = Table("partnership", "aliases", "year", "what it supports")
    for p in partnerships:
        table.add_row(p["name"], ", ".join(p["aliases"]), p["year"], p["supports"])
    console.print(table)


def _print_result(result) -> None:
    console.print(result.headline, highlight=False, markup=False)
    table = Table("line", "working", "amount", show_lines=False)
    for line in result.working:
        shown = "" if line.amount is None else (pence(line.amount) if line.precision else pounds(line.amount))
        table.add_row(line.label, f"{line.formula}{line.shown(with_rounded=False)}", shown)
    console.print(table)
    for warning in result.warnings:
        console.print(f"Note: {warning}", style="yellow", highlight=False, markup=False)
    console.print("[bold]Sources[/]")
    for c in result.citations:
        console.print(f"  {c.source}: \"{c.quote}\"", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def calc(
        partnership: Optional[str] = typer.Argument(
            None, help="ealing/elp, haringey/hep, safe/surrey, harrow, camden or hillingdon/hlp."),
        phase: Optional[str] = typer.Option(None, "--phase", help="primary, secondary or special."),
        pupils: Optional[str] = typer.Option(None, "--pupils", metavar="N", help="Pupils on roll (1-5,000)."),
        fe: Optional[str] = typer.Option(None, "--fe", metavar="N",
                                         help="Forms of entry for a primary (210 pupils each)."),
        scenario: Optional[str] = typer.Option(None, "--scenario", metavar="1|2", help="Ealing scenario."),
        maintained: Optional[bool] = typer.Option(None, "--maintained/--academy",
                                                  help="Ealing primaries: maintained (de-delegated) or academy."),
        members: Optional[str] = typer.Option(None, "--members", metavar="N",
                                              help="Hillingdon: member schools, for the break-even fee."),
        derive: bool = typer.Option(False, "--derive", help="Ealing: show how the published rates arise "
                                    "(£13.76, £3.36, £6.11); with --schools and --pupils, a what-if rate."),
        schools: Optional[str] = typer.Option(None, "--schools", metavar="N",
                                              help="With --derive: subscribing primary schools."),
        pool: Optional[str] = typer.Option(None, "--pool", metavar="POUNDS",
                                           help="With --derive: primary pool to recover (default 331000)."),
        show_list: bool = typer.Option(False, "--list", help="List the partnerships and what each supports."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (unrounded numbers)."),
    ) -> None:
        """Work out a school's subscription (and, for Ealing primaries, its net position) with the working
        and the source of every rate, e.g. `partnership calc ealing --phase primary --pupils 420
        --scenario 2 --maintained`. `--derive` shows how Ealing's rates arise; `--list` lists partnerships."""
        if show_list:
            _print_list(as_json)
            return
        if partnership is None:
            raise fail("give a PARTNERSHIP (e.g. `partnership calc ealing --phase primary --pupils 420 "
                       "--scenario 2`) or --list to see the partnerships.")
        with user_errors():
            request = CalcRequest(
                partnership=partnership, phase=phase, pupils=_whole("--pupils", pupils), fe=_whole("--fe", fe),
                scenario=_whole("--scenario", scenario), maintained=maintained,
                members=_whole("--members", members), derive=derive, schools=_whole("--schools", schools),
                pool=_whole("--pool", pool))
            result = calculate(request)
        if as_json:
            print_json(result.to_dict())
        else:
            _print_result(result)
