"""The LangChain tool: invocable with a dict, a schema a chat model can use, errors as data."""
from __future__ import annotations

import json

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from assistant.calculator import funding_calculator


def test_invoke_with_a_dict():
    result = funding_calculator.invoke({"partnership": "ealing", "phase": "primary", "pupils": 420,
                                        "scenario": 2, "maintained": True})
    for key in ("subscription", "mfg_funding", "council_share", "total_new_funding", "de_delegation",
                "net_position"):
        assert isinstance(result[key], float)
    assert result["net_position"] == 4467.2 and result["display"]["net_position"] == "£4,467"
    assert result["working"] and result["citations"]
    json.dumps(result)


def test_schema_has_descriptions_and_converts_for_chat_models():
    assert isinstance(funding_calculator, BaseTool) and funding_calculator.name == "funding_calculator"
    schema = funding_calculator.args_schema.model_json_schema()
    for name in ("partnership", "phase", "pupils", "fe", "scenario", "maintained", "members", "derive"):
        assert schema["properties"][name]["description"]
    assert schema["required"] == ["partnership"]
    openai = convert_to_openai_tool(funding_calculator)
    assert openai["function"]["name"] == "funding_calculator"
    assert "Ealing" in openai["function"]["description"]
    assert "pupils" in openai["function"]["parameters"]["properties"]


def test_tool_call_from_a_model_returns_a_tool_message():
    message = funding_calculator.invoke({"type": "tool_call", "id": "call_1", "name": "funding_calculator",
                                         "args": {"partnership": "HEP", "pupils": 500}})
    assert isinstance(message, ToolMessage) and message.tool_call_id == "call_1"
    assert "9500" in str(message.content)


def test_bad_input_comes_back_as_an_error_dict():
    assert funding_calculator.invoke({"partnership": "haringey", "pupils": 0})["error"].startswith(
        "The number of pupils must be at least 1")
    missing = funding_calculator.invoke({"partnership": "ealing", "phase": "primary", "scenario": 1})
    assert missing["missing"] == ["pupils"] and "How many pupils" in missing["error"]
    invalid = funding_calculator.invoke({"partnership": "ealing", "pupils": 3.5})
    assert "pupils" in invalid["error"] and "1 to 5,000" in invalid["error"]
    unknown_field = funding_calculator.invoke({"partnership": "ealing", "colour": "red"})
    assert "colour" in unknown_field["error"]
