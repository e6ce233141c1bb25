"""JSON values: strict decoding (no lone surrogates) and compact text."""

from __future__ import annotations

import json

import pytest

from modelmon.formats.json_values import compact_json, load_json


def test_load_json_decodes_escapes_of_valid_unicode() -> None:
    assert load_json('{"a": [1, 2.5, "\\u00e9\\ud83d\\ude00"]}') == {"a": [1, 2.5, "é😀"]}


@pytest.mark.parametrize("text", ['"\\ud800"', '{"a": "x\\udc80"}', '["\\ude00\\ud83d"]'])
def test_load_json_rejects_lone_surrogate_escapes(text: str) -> None:
    with pytest.raises(UnicodeEncodeError, match="surrogate"):
        load_json(text)


def test_load_json_raises_json_errors_as_they_are() -> None:
    with pytest.raises(json.JSONDecodeError, match="Expecting value") as caught:
        load_json('{"a": ')
    assert caught.value.pos == 6


def test_compact_json_has_no_spaces_and_keeps_non_ascii() -> None:
    assert compact_json({"a": [1, 1.0, True, None, "é"]}) == '{"a":[1,1.0,true,null,"é"]}'
