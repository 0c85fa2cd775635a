"""Pull calculator inputs out of one message: partnership, phase, pupils or FE, scenario, maintained,
member schools, and whether the message is asking for a calculation or a derivation at all."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.calculator.numbers import words_to_digits

PARTNERSHIP_PATTERNS = [  # (key, pattern, case-sensitive?)
    ("ealing", r"\b(?:ealing|elp)\b", False),
    ("haringey", r"\b(?:haringey|hep)\b", False),
    ("safe", r"\bSA[fF]E\b", True),  # 'safe' in lower case is an ordinary word
    ("safe", r"\bsurrey\b", False),
    ("harrow", r"\bharrow\b", False),
    ("camden", r"\bcamden\b", False),
    ("hillingdon", r"\b(?:hillingdon|hlp)\b", False),
]
# Partnerships in the corpus with no published per-school fee: a calculation for them is explained, not guessed.
UNSUPPORTED = {
    "lewisham": "Lewisham Learning", "barking": "Barking and Dagenham School Improvement Partnership",
    "dagenham": "Barking and Dagenham School Improvement Partnership",
    "hounslow": "Hounslow Education Partnership", "merton": "Attain (Merton)", "attain": "Attain (Merton)",
    "redbridge": "Redbridge Education Partnership", "tower hamlets": "Tower Hamlets Education Partnership",
    "portsmouth": "Portsmouth Education Partnership", "bexley": "Bexley Education Partnership",
    "east sussex": "East Sussex",
}
PHASE_PATTERNS = [
    ("primary", r"\b(?:primary|primaries|infant|junior)\b"),
    ("secondary", r"\b(?:secondary|secondaries|high schools?)\b"),
    ("special", r"\bspecial\b"),
]
NOT_MONEY = r"(?<![£\d.,])"  # '£6.11 per pupil' is a rate, not a pupil count
PUPIL_PATTERNS = [
    NOT_MONEY + r"\b(\d+)\s*-?\s*(?:pupils?|children|students|learners)\b",
    NOT_MONEY + r"\b(\d+)\s+(?:pupils?\s+)?on\s+(?:the\s+)?roll\b",
    r"\b(?:pupils|roll|number on roll)\s*[:=]\s*(\d+)\b",  # "pupils: 420", as in a form
    r"\broll\s+(?:of|is)\s+(?:about\s+|around\s+|roughly\s+)?(\d+)\b",
    r"\b(?:primary|secondary|school|academy)\s+(?:of|with)\s+(\d+)\b(?!\s*(?:-|\s)?(?:fe\b|form|member|schools|%))",
]
FE_PATTERN = r"\b(\d+(?:\.\d+)?)\s*-?\s*(?:fe\b|f\.e\.|forms?[\s-]+(?:of[\s-]+)?entry|form\b)"
SCENARIO_PATTERNS = [r"\bscenario\s*(?:no\.?\s*|number\s*|#\s*)?(\d+)\b", r"\b(first|second|third)\s+scenario\b"]
ORDINALS = {"first": "1", "second": "2", "third": "3"}
MEMBER_PATTERNS = [r"\b(\d+)\s+(?:member\s+)?schools\b", r"\b(\d+)\s+members\b",
                   r"\bmembership\s+of\s+(\d+)\b"]
ACADEMY = r"\b(?:academy|academies|free school|converter)\b"
NOT_ACADEMY = r"\b(?:not|isn't|isnt|rather than)\s+(?:an?\s+)?(?:academy|academies)\b"
MAINTAINED = r"\b(?:maintained|community school|voluntary[- ]aided|va school)\b"
NOT_MAINTAINED = r"\b(?:not|isn't|isnt)\s+(?:la[- ])?maintained\b|\bnon[- ]maintained\b"
CALC_WORDS = (r"\b(?:pay|pays|paid|paying|cost|costs|costing|subscriptions?|subscribe|fees?|charged?|charges|"
              r"contribut\w*|net position|new funding|how much|calculate|calculation|work out|worked out|"
              r"break[- ]even|afford|bill|price|owe|de-?delegat\w*|per school)\b|£")
PERSONAL = (r"\b(?:my|our)\s+(?:[\w-]+\s+)?(?:school|primary|secondary|academy)\b|"
            r"\b(?:a|an)\s+(?:[\w-]+\s+)?(?:school|primary|secondary|academy|special school)\b|"
            r"\bwe(?:'d| would| will)?\s+(?:pay|be charged|owe)\b|"
            r"\b(?:would|will|do|should) we (?:pay|owe|be charged)\b")
AMOUNT_QUESTION = r"\bhow much\b|\bwhat(?:'s|\s+is|\s+are|\s+would|\s+will|\s+do|\s+does)\b|\bcalculate\b|\bwork out\b"
# A fee question that needs the number of members: "what would the Hillingdon fee be?", "break-even fee".
MEMBER_FEE_QUESTION = (r"\bbreak[- ]even\b|(?:\bhow much\b|\bwhat\b).*\b(?:fee|fees|pay|charged?|cost per school)\b")
# Yes/no questions ("do we have to pay three fees?", "do small schools get a discount?") are not
# calculations unless they give a pupil count or form entry.
YES_NO = (r"(?:^|[,.;:?!]\s*)(?:do|does|did|is|are|can|could|should|must|have|has|will|would)\s+"
          r"(?:we|i|you|they|small|all|schools?|it|there|the|each|every|any|federations?|trusts?|academies|"
          r"our|my|a|an)\b")
# Asking for an amount: only then is it worth asking the user for the inputs a calculation still lacks.
AMOUNT_ASKED = (r"\bhow much\b|\bwhat (?:would|will|do|does|did|should|might|is|are)\b[^?]{0,60}\b(?:pay|cost|costs|charged?|fees?|"
                r"subscriptions?|price|bill|come to)\b|\bwhat's the (?:fee|cost|charge|subscription|price)\b|\bcalculate\b|"
                r"\bwork(?:ed)? out\b|\bbreak[- ]even\b|\bcost(?:s)? (?:for|of)\b")
# Fee *policy* ("how is the subscription set?", "who pays?", "is there a discount?") is answered from the
# documents; only a figure to work out goes to the calculator.
POLICY = (r"\bhow (?:is|are|was|were|will|would)\b.*\b(?:set|decided|determined|agreed|funded|structured|"
          r"allocated|shared|split|reviewed)\b|\bwho (?:pays|funds|decides|sets)\b|\bdiscounts?\b|"
          r"\ballowances?\b|\bwhat (?:does|do|will) (?:the |our |a )?(?:fee|fees|subscription|membership)\b.*\b(?:cover|include|buy|get)\b")
# "the Bromley partnership", "Kingston's partnership": a partnership the calculator has never heard of.
NAMED_PARTNERSHIP = (r"\b([A-Z][a-z]+)(?:'s)?\s+(?:(?i:education|learning|school improvement)\s+)?"
                     r"(?i:partnership)\b")
DERIVABLE = r"13\.76|3\.36|6\.11|\bper[- ]pupil rates?\b|\brates? per pupil\b|\bcouncil share\b|\bscenario rates?\b"
DERIVE_VERBS = (r"\b(?:worked out|work(?:ed)? out|derived?|derivation|calculated|arrived? at|comes? from|"
                r"how (?:was|is|were|are|do|did|does)|why)\b|\bwhat (?:would|will) the (?:per[- ]pupil )?rate\b")
SCHOOL_COUNT = r"\b(\d+)\s+(?:primary\s+)?(?:schools|primaries)\b"
POOL = r"\bpool\s+(?:of\s+)?£?(\d+(?:\.\d+)?)\s*(k|m)?\b"
FOLLOW_UP_START = r"^\s*(?:and|what about|how about|what if|same|instead|now|ok(?:ay)?|then|but|as)\b"
OTHER_QUESTION = r"^\s*(?:who|which|where|when|why|what (?:is|are|does|do|did)|how (?:do|does|is|are|did))\b"


@dataclass
class Extraction:
    """What one message says. `None` means the message does not mention it."""

    text: str = ""
    partnership: str | None = None
    partnerships: list[str] = field(default_factory=list)
    unsupported: str | None = None
    phase: str | None = None
    phases: list[str] = field(default_factory=list)
    pupils: int | None = None
    fe: int | None = None
    fe_text: str | None = None
    scenario: int | None = None
    maintained: bool | None = None
    members: int | None = None
    schools: int | None = None
    pool: int | None = None
    calc_words: bool = False
    amount_question: bool = False
    yes_no: bool = False
    policy: bool = False
    personal: bool = False
    derivation: bool = False
    follow_up_start: bool = False
    fragment: bool = False
    bare_number: int | None = None
    words: int = 0

    def inputs(self) -> dict:
        """The calculator inputs this message states."""
        names = ("partnership", "phase", "pupils", "fe", "scenario", "maintained", "members")
        found = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        if "pupils" in found:
            found.pop("fe", None)  # "a 2FE primary with 420 pupils": the roll is the exact figure
        return found

    @property
    def has_inputs(self) -> bool:
        return bool(self.inputs()) or self.fe_text is not None

    def is_follow_up(self) -> bool:
        """Shaped like a follow-up to a calculation: 'and under scenario 2?', 'as an academy?'."""
        if self.follow_up_start:
            return self.has_inputs
        school_inputs = {k for k in self.inputs() if k != "partnership"} or self.fe_text
        return bool(school_inputs) and (self.fragment or self.calc_words)


def _first_int(patterns: list[str], text: str) -> int | None:
    for pattern in patterns:
        if match := re.search(pattern, text):
            return int(ORDINALS.get(match.group(1), match.group(1)))
    return None


def extract(message: str) -> Extraction:
    """Read one message (numbers in words are converted first)."""
    original = words_to_digits(message)
    text = original.lower()
    ex = Extraction(text=text, words=len(text.split()))
    for key, pattern, case_sensitive in PARTNERSHIP_PATTERNS:
        if re.search(pattern, original if case_sensitive else text) and key not in ex.partnerships:
            ex.partnerships.append(key)
    ex.partnership = ex.partnerships[0] if len(ex.partnerships) == 1 else None
    ex.unsupported = next((name for word, name in UNSUPPORTED.items() if re.search(rf"\b{word}\b", text)), None)
    if not ex.partnerships and not ex.unsupported:
        named = re.search(NAMED_PARTNERSHIP, original)
        if named and named.group(1).lower() not in ("the", "a", "this", "that", "our", "your", "which", "what"):
            ex.unsupported = named.group(1)
    ex.phases = [phase for phase, pattern in PHASE_PATTERNS if re.search(pattern, text)]
    ex.phase = ex.phases[0] if len(ex.phases) == 1 else None
    ex.pupils = _first_int(PUPIL_PATTERNS, text)
    if match := re.search(FE_PATTERN, text):
        ex.fe_text = match.group(1)
        ex.fe = int(match.group(1)) if match.group(1).isdigit() else None
    scenarios = {ORDINALS.get(m, m) for pattern in SCENARIO_PATTERNS for m in re.findall(pattern, text)}
    # "scenario 1 or scenario 2?" asks for both, which is what no scenario gives
    ex.scenario = int(scenarios.pop()) if len(scenarios) == 1 else None
    if re.search(NOT_ACADEMY, text):
        ex.maintained = True
    elif re.search(NOT_MAINTAINED, text):
        ex.maintained = False
    elif re.search(ACADEMY, text):
        ex.maintained = False
    elif re.search(MAINTAINED, text):
        ex.maintained = True
    ex.members = _first_int(MEMBER_PATTERNS, text)
    ex.calc_words = bool(re.search(CALC_WORDS, text))
    ex.personal = bool(re.search(PERSONAL, text))
    ex.amount_question = bool(re.search(AMOUNT_QUESTION, text))
    ex.yes_no = bool(re.search(YES_NO, text))
    ex.policy = bool(re.search(POLICY, text))
    ex.derivation = bool(re.search(DERIVABLE, text) and re.search(DERIVE_VERBS, text))
    ex.schools = _first_int([SCHOOL_COUNT], text)
    if match := re.search(POOL, text):
        scale = {"k": 1000, "m": 1_000_000}.get(match.group(2) or "", 1)
        ex.pool = int(float(match.group(1)) * scale)
    ex.follow_up_start = bool(re.search(FOLLOW_UP_START, text))
    ex.fragment = ex.words <= 6 and not re.search(OTHER_QUESTION, text)
    if match := re.fullmatch(r"\W*(\d+)\W*", text):
        ex.bare_number = int(match.group(1))
    return ex


def merge(base: dict, newer: dict) -> dict:
    """Later messages override earlier ones; a new partnership drops inputs it cannot use."""
    merged = {**base, **newer}
    if "partnership" in newer and newer["partnership"] != base.get("partnership"):
        for name in ("scenario", "maintained", "members"):
            if name not in newer:
                merged.pop(name, None)
    if "fe" in newer:
        merged.pop("pupils", None)
    if "pupils" in newer:
        merged.pop("fe", None)
    return merged

