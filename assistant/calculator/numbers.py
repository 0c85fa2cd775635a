"""Numbers written in words ("three hundred and fifteen", "two-form entry") turned into digits."""
from __future__ import annotations

import re

UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
SCALES = {"hundred": 100, "thousand": 1000}
MULTIPLES = {"single": 1, "double": 2, "triple": 3}

_WORD = "|".join(sorted([*UNITS, *TENS, *SCALES], key=len, reverse=True))
# "three hundred and fifteen", "four-hundred-and-twenty"; but "two and three" are two numbers
_AND = r"(?:(?:(?<=hundred)|(?<=thousand))[\s-]+and[\s-]+|[\s-]+)"
_RUN = re.compile(rf"\b(?:{_WORD})(?:{_AND}(?:{_WORD}))*\b", re.IGNORECASE)
_MULTIPLE_FORM = re.compile(r"\b(single|double|triple)([\s-]+form)", re.IGNORECASE)
_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")


def _value(run: str) -> int:
    total = current = 0
    for word in re.split(_AND, run.lower(), flags=re.IGNORECASE):
        if word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word == "thousand":
            total += max(current, 1) * 1000
            current = 0
    return total + current


def words_to_digits(text: str) -> str:
    """'three hundred and fifteen pupils' → '315 pupils'; '1,200' → '1200'; 'single-form' → '1-form'."""
    text = _MULTIPLE_FORM.sub(lambda m: f"{MULTIPLES[m.group(1).lower()]}{m.group(2)}", text)
    text = _RUN.sub(lambda m: str(_value(m.group(0))), text)
    return _THOUSANDS_COMMA.sub("", text)
