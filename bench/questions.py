"""The questions the answering, HTTP and baseline benches ask: the eval dataset's, or a fixed fallback list."""
from __future__ import annotations

# Used only when eval/dataset.yaml cannot be loaded; the report then says so.
FALLBACK_QUESTIONS = [
    "Why is ELP only for one year?",
    "Is membership of the Ealing Learning Partnership all or nothing?",
    "How is the ELP subscription calculated?",
    "Who sits on the ELP board?",
    "What are the priorities of the Ealing Learning Partnership?",
    "What does the Hillingdon Learning Partnership offer schools?",
    "How much does it cost a primary school to join the Hillingdon Learning Partnership?",
    "What did the Hillingdon partnership review find?",
    "What is Learning Locally?",
    "Which London boroughs have school partnerships described in the AEPA report?",
    "What makes a local education partnership successful?",
    "How are partnerships funded?",
    "What is the role of the local authority in a schools partnership?",
    "Do academies pay the same as maintained schools?",
    "What is peer review in the ELP?",
    "How do schools find capacity to support other schools?",
    "What happens if a school does not join the partnership?",
    "What are the governance arrangements of the HLP?",
    "What support is there for school improvement?",
    "How is the partnership's performance reviewed?",
    "What CPD does the partnership provide for headteachers?",
    "What is the per-pupil rate for secondary schools?",
    "How many schools are members of the Hillingdon partnership?",
    "What are the benefits of joining a learning partnership?",
    "What challenges do school partnerships face?",
    "Who funds the Ealing Learning Partnership?",
    "What is SAfE?",
    "How can governors get involved?",
    "What happens to unspent money at the end of the year?",
    "Can special schools join the partnership?",
]


def load_questions(limit: int | None = None) -> tuple[list[str], str]:
    """(questions, where they came from). Falls back to FALLBACK_QUESTIONS if the dataset is unusable."""
    try:
        from eval.schema import DEFAULT_DATASET, load_dataset

        items = load_dataset()
        questions, source = [item.question for item in items], f"{DEFAULT_DATASET.name} ({len(items)} items, every kind)"
    except Exception as exc:  # absent or invalid dataset: still benchmark, and say which questions were used
        questions = list(FALLBACK_QUESTIONS)
        source = f"fixed list of {len(questions)} questions in bench/questions.py (eval dataset unusable: {exc.__class__.__name__})"
    if limit is not None:
        questions = questions[:limit]
        source += f", first {len(questions)} (--quick)"
    return questions, source
