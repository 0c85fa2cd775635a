"""What one bench run does (the Plan: sizes and repeats, full or --quick) and what its sections share (Ctx)."""
from __future__ import annotations

import shutil
import stat
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.proc import REPO


@dataclass(frozen=True)
class Plan:
    """Sizes and repeats. The full plan is what the issue asks for; --quick only checks that the bench runs."""

    quick: bool
    repeats: int  # repeats of noisy figures (min/median/max)
    scale_docs: tuple[int, ...]  # synthetic corpus sizes, in documents
    scale_paragraphs: int  # paragraphs per synthetic document
    scale_time_limit_s: float  # a synthetic ingest still running after this is stopped; its progress is reported
    retrieval_chunks: tuple[int, ...]  # synthetic-vector collection sizes
    retrieval_queries: int
    hybrid_queries: int  # whole HybridRetriever (BM25 + dense + parts) calls timed at every size
    question_limit: int | None  # None: every eval question
    cold_start_repeats: int
    http_levels: tuple[int, ...]
    http_requests: int  # per concurrency level
    timeout_s: float  # per worker process
    vector_build_timeout_s: float  # building a synthetic-vector collection (100,000 took ~25 min here)

    @classmethod
    def full(cls) -> "Plan":
        return cls(quick=False, repeats=2, scale_docs=(1_000, 10_000), scale_paragraphs=1,
                   scale_time_limit_s=400, retrieval_chunks=(1_000, 10_000, 100_000), retrieval_queries=100,
                   hybrid_queries=30, question_limit=None, cold_start_repeats=3, http_levels=(1, 8, 32),
                   http_requests=200, timeout_s=1500, vector_build_timeout_s=7200)

    @classmethod
    def quick_plan(cls) -> "Plan":
        return cls(quick=True, repeats=1, scale_docs=(10, 30), scale_paragraphs=1,
                   scale_time_limit_s=120, retrieval_chunks=(200, 1_000), retrieval_queries=20,
                   hybrid_queries=10, question_limit=8, cold_start_repeats=1, http_levels=(1, 8, 32),
                   http_requests=20, timeout_s=300, vector_build_timeout_s=300)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Ctx:
    """Shared by the sections of one run: the plan, a scratch folder, a writable copy of the corpus,
    the data dir holding the ingested corpus (made by the ingest section), and the questions."""

    plan: Plan
    workdir: Path
    questions: list[str]
    questions_source: str
    vector_cache: Path | None = None  # where built synthetic-vector collections are kept between runs

    @property
    def corpus(self) -> Path:
        return self.workdir / "corpus"

    @property
    def index_dir(self) -> Path:
        return self.workdir / "index"

    def copy_corpus(self, target: Path) -> Path:
        return copy_corpus(target)

    def require_index(self) -> Path:
        if not (self.index_dir / "manifest.json").exists():
            raise RuntimeError("the corpus index was not built (the ingest section failed first)")
        return self.index_dir


def copy_corpus(target: Path) -> Path:
    """A writable copy of corpus/ (the originals are read-only, and some benches edit a file)."""
    shutil.copytree(REPO / "corpus", target, dirs_exist_ok=True)
    for path in target.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target


def partnership_command() -> list[str]:
    """The installed `partnership` script next to this interpreter (the same thing users run)."""
    script = Path(sys.executable).with_name("partnership")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from integrations.cli.app import main; main()"]


def disk_usage_mb(path: Path) -> float:
    """Allocated size of everything under `path` (what `du` reports), in MiB, leaving out the model's
    ONNX export (`encoders/`, ~90 MB): it is the model, made once, not the index."""
    total = 0
    for item in Path(path).rglob("*"):
        if "encoders" in item.relative_to(path).parts:
            continue
        if item.is_file() and not item.is_symlink():
            total += item.stat().st_blocks * 512
    return total / (1024 * 1024)
