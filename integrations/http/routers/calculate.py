"""POST /calculate — the subscription calculator: inputs in, working, totals and sources out."""
from __future__ import annotations

from fastapi import APIRouter

from assistant.calculator import CalcRequest, calculate as run_calculation, list_partnerships
from integrations.http.deps import ClientDep
from integrations.http.schemas import ERROR_RESPONSES, CalculateOut, PartnershipsOut

router = APIRouter(tags=["calculator"], responses=ERROR_RESPONSES)


@router.post("/calculate", response_model=CalculateOut)
def calculate(body: CalcRequest, _client: ClientDep) -> CalculateOut:
    """Work out a school's subscription and net position, line by line with sources.

    Returns the calculator's result: `headline`, `inputs`, the totals (e.g. `net_position`, in pounds,
    unrounded) also under `totals`, rounded pound strings under `display`, `working` lines
    (label, formula, amount, display), `warnings`, `citations` (source, quote) and the rendered `text`.
    Inputs it cannot use are a 422 whose message names the problem (and `missing` lists absent inputs).
    """
    return CalculateOut.model_validate(run_calculation(body).to_dict())


@router.get("/calculate/partnerships", response_model=PartnershipsOut)
def partnerships(_client: ClientDep) -> PartnershipsOut:
    """Partnerships (and their options) the calculator knows."""
    return PartnershipsOut.model_validate({"partnerships": list_partnerships()})
