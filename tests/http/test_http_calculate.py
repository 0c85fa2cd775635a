"""POST /calculate and GET /calculate/partnerships over the real calculator."""
from __future__ import annotations

import pytest

EALING_420 = {"partnership": "Ealing Learning Partnership", "phase": "primary", "pupils": 420,
              "scenario": 2, "maintained": True}


def test_420_pupil_maintained_primary_scenario_2_nets_4467(client):
    response = client.post("/calculate", json=EALING_420)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["display"]["net_position"] == "£4,467"
    assert round(result["net_position"], 2) == 4467.2
    assert "£4,467" in result["headline"]
    assert [line["display"] for line in result["working"]][-1] == "£4,467"
    assert all(c["source"] == "ealing-elp-prospectus-2018-19.txt" for c in result["citations"])
    assert result["citations"] and result["warnings"] == []


def test_the_response_model_is_in_the_openapi(client):
    spec = client.get("/openapi.json").json()
    ok = spec["paths"]["/calculate"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/CalculateOut"}
    fields = spec["components"]["schemas"]["CalculateOut"]["properties"]
    assert {"headline", "inputs", "totals", "display", "working", "warnings", "citations", "text"} <= set(fields)


def test_short_names_and_form_entry_work(client):
    result = client.post("/calculate", json={"partnership": "elp", "phase": "primary", "fe": 2,
                                             "scenario": 2, "maintained": True}).json()
    assert result["display"]["net_position"] == "£4,467"


@pytest.mark.parametrize(("body", "fragment"), [
    ({**EALING_420, "partnership": "Narnia"}, "unknown partnership 'narnia'"),
    ({**EALING_420, "scenario": 3}, "unknown scenario 3"),
    ({**EALING_420, "fe": 2}, "either pupils or form entry"),
    ({"partnership": "Haringey", "phase": "primary", "pupils": 420, "scenario": 2}, "has no scenarios"),
    ({**EALING_420, "pupils": "lots"}, "pupils: input should be a valid integer"),
    ({**EALING_420, "colour": "blue"}, "colour: extra inputs are not permitted"),
    ({}, "partnership: field required"),
])
def test_inputs_the_calculator_cannot_use_are_422_with_its_message(client, body, fragment):
    response = client.post("/calculate", json=body)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["error"].lower()
    assert "Traceback" not in response.text


def test_missing_input_is_named(client):
    response = client.post("/calculate", json={"partnership": "Ealing", "scenario": 2})
    assert response.status_code == 422
    body = response.json()
    assert body["missing"] and body["error"]


def test_partnerships_lists_what_the_calculator_supports(client):
    response = client.get("/calculate/partnerships")
    assert response.status_code == 200
    partnerships = {p["key"]: p for p in response.json()["partnerships"]}
    assert partnerships["ealing"]["name"] == "Ealing Learning Partnership"
    assert partnerships["ealing"]["model"] == "ealing" and partnerships["ealing"]["supports"]
