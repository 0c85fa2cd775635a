"""Fixed-seed synthetic data for the scale benchmarks, so every run measures the same work.

Documents are templated partnership-like text: a partnership name (place × suffix), a kind (prospectus
extract, Q&A briefing, subscription schedule, review notes), and paragraphs filled from fixed vocabularies
(phases, priorities, fees in pounds, pupil numbers, years). `random.Random(seed)` picks every slot, so the
same seed and count give byte-identical files. Vectors for the retrieval benchmark are standard-normal
draws from `numpy.random.default_rng(seed)`, L2-normalised (uniform on the 384-d unit sphere).
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np

SEED = 8
DIM = 384

PLACES = (
    "Northgate", "Riverside", "Eastbrook", "Westfield", "Hollowmere", "Ashcombe", "Brentleigh", "Castlewood",
    "Dunmore", "Elmstead", "Fairholt", "Greenhithe", "Harrowden", "Ivybridge", "Kingsmead", "Larkfield",
    "Millbrook", "Newbury Vale", "Oakhampton", "Pennington", "Queensbury", "Redhill", "Stonebridge", "Thornbury",
)
SUFFIXES = ("Learning Partnership", "Schools Partnership", "Education Partnership", "Learning Collaborative")
PHASES = ("nursery", "primary", "secondary", "special", "all-through", "pupil referral unit")
PRIORITIES = (
    "school-to-school support", "peer review", "leadership development", "early reading",
    "mathematics mastery", "SEND inclusion", "attendance", "recruitment and retention of teachers",
    "curriculum design", "governor training", "moderation of assessment", "wellbeing of staff",
)
KINDS = ("Prospectus extract", "Q&A briefing", "Subscription schedule", "Partnership review notes")
FIRST_NAMES = ("Amira", "Ben", "Chloe", "Dev", "Esther", "Farid", "Grace", "Hugo", "Imogen", "Jamal")
SURNAMES = ("Okafor", "Patel", "Reid", "Sandhu", "Thompson", "Ubeda", "Walsh", "Yilmaz")

PARAGRAPHS = (
    "The {p} is a partnership of {n} {phase} schools working with the local authority. Its priorities for "
    "{year} are {pr1} and {pr2}, agreed by the headteachers' board in {month}.",
    "Subscriptions: each member school pays a base fee of £{base:,} plus £{rate:.2f} per pupil on roll at the "
    "October census. Maintained schools and academies pay the same rate; {phase} schools with fewer than "
    "{small} pupils pay the base fee only.",
    "Q: Is membership all or nothing? A: Schools join for the full offer in {year}. The board reviews the "
    "offer each {month} and {name} {surname}, the partnership lead, reports back to governors.",
    "The review found that {pct}% of schools took part in {pr1}. Heads asked for more {pr2} and fewer "
    "meetings; the steering group will publish a revised plan by {month} {year}.",
    "Governance: the {p} board has {seats} seats, {heads} for headteachers and the rest for governors and "
    "the local authority. Decisions need a two-thirds majority of those present.",
    "Q: What happens to the surplus? A: Any surplus at year end stays with the {p} and funds {pr1}. It is "
    "reported to members with the accounts in {month}.",
)
MONTHS = ("January", "March", "May", "July", "September", "November")


def partnership_name(rng: random.Random) -> str:
    return f"{rng.choice(PLACES)} {rng.choice(SUFFIXES)}"


def paragraph(rng: random.Random, partnership: str) -> str:
    pr1, pr2 = rng.sample(PRIORITIES, 2)
    return rng.choice(PARAGRAPHS).format(
        p=partnership, n=rng.randint(8, 90), phase=rng.choice(PHASES), year=rng.randint(2016, 2026),
        pr1=pr1, pr2=pr2, month=rng.choice(MONTHS), base=rng.randrange(500, 6000, 50),
        rate=rng.randint(150, 900) / 100, small=rng.choice((100, 150, 210)), name=rng.choice(FIRST_NAMES),
        surname=rng.choice(SURNAMES), pct=rng.randint(40, 99), seats=rng.randint(7, 15), heads=rng.randint(3, 6),
    )


def document(rng: random.Random, paragraphs: int) -> str:
    name = partnership_name(rng)
    title = f"{name} — {rng.choice(KINDS)} {rng.randint(2016, 2026)}"
    return title + "\n\n" + "\n\n".join(paragraph(rng, name) for _ in range(paragraphs)) + "\n"


def write_corpus(folder: Path, n_docs: int, paragraphs: int = 2, seed: int = SEED) -> dict:
    """Write `n_docs` text files into `folder`; returns {"documents", "chars", "paragraphs_per_doc", "seed"}."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    chars = 0
    for i in range(n_docs):
        text = document(rng, paragraphs)
        (folder / f"synthetic-{i:06d}.txt").write_text(text, encoding="utf-8")
        chars += len(text)
    return {"documents": n_docs, "chars": chars, "paragraphs_per_doc": paragraphs, "seed": seed}


def texts(n: int, seed: int = SEED) -> list[str]:
    """`n` one-paragraph chunk texts (for the hybrid retriever's BM25 side at scale)."""
    rng = random.Random(seed)
    return [paragraph(rng, partnership_name(rng)) for _ in range(n)]


QUESTIONS = (
    "How much does a {phase} school pay to join the {p}?",
    "Who sits on the board of the {p}?",
    "What are the priorities of the {p}?",
    "What happens to the surplus of the {p}?",
)


def questions(n: int, seed: int = SEED + 5) -> list[str]:
    """`n` questions about synthetic partnerships, worded like the users' questions."""
    rng = random.Random(seed)
    return [rng.choice(QUESTIONS).format(p=partnership_name(rng), phase=rng.choice(PHASES)) for _ in range(n)]


def titles(n: int, seed: int = SEED) -> list[str]:
    """`n` section titles ("<partnership> — <kind>"), many repeated, as real sections repeat across chunks."""
    rng = random.Random(seed)
    return [f"{partnership_name(rng)} — {rng.choice(KINDS)}" for _ in range(n)]


def unit_vectors(n: int, dim: int = DIM, seed: int = SEED) -> np.ndarray:
    """`n` float32 vectors uniform on the unit sphere (normalised Gaussian draws)."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors
