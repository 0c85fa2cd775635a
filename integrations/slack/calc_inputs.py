"""Layout and reading of the "Change inputs" modal on a calculator answer: the button (inputs in its value),
the modal pre-filled from them, the submitted state as calculator arguments, and which field a refusal is about."""
from __future__ import annotations

import json
import re

from assistant.calculator import CalcRequest, list_partnerships, missing_inputs
from assistant.models import Answer

CHANGE_INPUTS = "calc_change_inputs"
CALLBACK = "calc_change_inputs_modal"
FIELDS = ("partnership", "phase", "pupils", "fe", "scenario", "maintained")
PHASES = ("primary", "secondary", "special")
SCENARIOS = ("1", "2")
SCHOOL_TYPES = {"maintained": True, "academy": False}
ERROR_CHARS = 300  # a field error is a short line under the field


def _option(text: str, value: str) -> dict:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def _select(block: str, label: str, options: list[dict], initial: str | None) -> dict:
    element = {"type": "static_select", "action_id": block, "options": options,
               "placeholder": {"type": "plain_text", "text": "Not given"}}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen:
        element["initial_option"] = chosen
    return {"type": "input", "block_id": block, "optional": block != "partnership",
            "label": {"type": "plain_text", "text": label}, "element": element}


def _number(block: str, label: str, initial: object, hint: str) -> dict:
    element = {"type": "plain_text_input", "action_id": block}
    if initial is not None:
        element["initial_value"] = str(initial)
    return {"type": "input", "block_id": block, "optional": True, "hint": {"type": "plain_text", "text": hint},
            "label": {"type": "plain_text", "text": label}, "element": element}


def change_inputs_block(answer: Answer) -> dict | None:
    """The "Change inputs" button for a calculation answer (None for any other answer)."""
    if answer.calculation is None or answer.calculation.inputs.get("derive"):
        return None
    inputs = {k: v for k, v in answer.calculation.inputs.items() if k in FIELDS and v is not None}
    return {"type": "actions", "block_id": "calc_inputs", "elements": [
        {"type": "button", "action_id": CHANGE_INPUTS, "text": {"type": "plain_text", "text": "Change inputs"},
         "value": json.dumps(inputs)}]}


def modal(inputs: dict, metadata: dict) -> dict:
    """The modal, pre-filled with `inputs` (the calculation's, form entry already resolved to pupils)."""
    partnerships = [_option(p["name"], p["key"]) for p in list_partnerships()]
    maintained = inputs.get("maintained")
    school = None if maintained is None else ("maintained" if maintained else "academy")
    scenario = None if inputs.get("scenario") is None else str(inputs["scenario"])
    return {
        "type": "modal", "callback_id": CALLBACK, "private_metadata": json.dumps(metadata),
        "title": {"type": "plain_text", "text": "Change inputs"},
        "submit": {"type": "plain_text", "text": "Recalculate"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _select("partnership", "Partnership", partnerships, inputs.get("partnership")),
            _select("phase", "Phase", [_option(p.title(), p) for p in PHASES], inputs.get("phase")),
            _number("pupils", "Pupils on roll", inputs.get("pupils"), "Give pupils or form entry, not both."),
            _number("fe", "Form entry (primaries; 1 FE = 210 pupils)", inputs.get("fe"), "e.g. 2 for a 2FE primary"),
            _select("scenario", "Scenario (Ealing)", [_option(f"Scenario {s}", s) for s in SCENARIOS], scenario),
            _select("maintained", "Maintained or academy (Ealing primaries)",
                    [_option(k.title(), k) for k in SCHOOL_TYPES], school),
        ],
    }


def submitted_args(state: dict) -> tuple[dict, dict[str, str]]:
    """The calculator's arguments from the modal's state, and field errors for values that are no number."""
    args: dict[str, object] = {}
    errors: dict[str, str] = {}
    for block in FIELDS:
        element = (state.get(block) or {}).get(block) or {}
        value = (element.get("selected_option") or {}).get("value") if "selected_option" in element \
            else (element.get("value") or "").strip() or None
        if value is None:
            continue
        if block == "maintained":
            args[block] = SCHOOL_TYPES.get(value)
        elif block in ("pupils", "fe", "scenario"):
            if not re.fullmatch(r"\d{1,7}", value.replace(",", "")):
                errors[block] = f"Enter a whole number, e.g. {'420' if block == 'pupils' else '2'}."
                continue
            args[block] = int(value.replace(",", ""))
        else:
            args[block] = value
    return args, errors


def field_for(message: str) -> str:
    """Which field a calculator refusal is about, from the input it names (the calculator's messages name
    the input they refuse); the partnership field when none is named."""
    lowered = message.lower()
    for block, words in (("fe", ("form entry", " fe")), ("pupils", ("pupil",)), ("scenario", ("scenario",)),
                         ("phase", ("phase",)), ("maintained", ("maintained", "academy"))):
        if any(w in lowered for w in words):
            return block
    return "partnership"


def missing_field(request: CalcRequest) -> str | None:
    """The field to fill for the first input the calculator still needs (pupils stands for pupils or FE)."""
    missing = missing_inputs(request)
    return None if not missing else next((f for f in FIELDS if f in missing[0]), "pupils")


def refusal(answer: Answer) -> str | None:
    """The calculator's reason for not calculating (an error or a missing input), or None for a result."""
    if answer.calculation is not None:
        return None
    for call in answer.tool_calls:
        if isinstance(call.result, dict) and call.result.get("error"):
            return str(call.result["error"])
    return answer.answer


