"""The shape of bench/results/latest.json. The bench validates its own output against it before writing,
and tests/bench checks a --quick run against it, so the report cannot silently lose a figure."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 2  # 2: the issue-15 targets, growth rows, hybrid and RSS at every retrieval size
SECTIONS = ("ingest", "scale", "answer", "http", "baseline")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Spread(_Open):
    n: int = Field(ge=0)
    min: float | None
    median: float | None
    max: float | None


class Latency(_Open):
    n: int = Field(ge=0)
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    max_ms: float | None


class ColdIngest(_Open):
    wall_s: float
    peak_rss_mb: float
    chunks: int = Field(gt=0)
    files: int = Field(gt=0)


class Rate(_Open):
    seconds: Spread
    chunks_per_s: Spread


class ChangedFile(_Open):
    file: str
    seconds: Spread
    chunks_reembedded: Spread


class IngestData(_Open):
    cold_cli: ColdIngest
    files: int
    chunks: int
    model_load_s: float
    fresh_index: Rate
    raw_embedding: Rate
    raw_embedding_in_ingest_batches_s: float
    noop_reingest_s: Spread
    changed_file: ChangedFile
    ingest_over_raw: float | None
    worker_peak_rss_mb: float
    index_size_mb: float


class ScaleCorpus(_Open):
    documents: int
    chars: int
    seed: int
    error: str | None = None
    stopped_at_time_limit: bool = False
    progress: dict | None
    ingest_s: float | None = None
    chunks: int | None = None
    chunks_per_s: float | None = None
    docs_per_s: float | None = None
    peak_rss_mb: float | None = None
    index_size_mb: float | None = None


class RetrievalSize(_Open):
    chunks: int
    build_s: float
    build_reused: bool
    hnsw_m: int = Field(ge=2)
    ef_construction: int = Field(ge=1)
    ef_search: int = Field(ge=1)
    dense_query: Latency
    hybrid_query: Latency
    recall_at_5_uniform_queries: float = Field(ge=0, le=1)
    recall_at_5_near_queries: float = Field(ge=0, le=1)
    near_source_found_at_5: float = Field(ge=0, le=1)
    index_size_mb: float
    query_process_peak_rss_mb: float


class Retrieval(_Open):
    error: str | None = None
    sizes: list[RetrievalSize]


class ScaleData(_Open):
    generator: str
    corpora: list[ScaleCorpus]
    retrieval: Retrieval


class ColdStart(_Open):
    seconds: Spread
    peak_rss_mb: float
    import_torch_s: Spread  # `python -c "import torch"` in the same run: the cold-start target is 2.5 × it


class WarmAsk(_Open):
    questions_source: str
    questions: int
    passes: int
    errors: int
    total: Latency
    retrieval: Latency
    answer: Latency
    in_process_breakdown_s: dict[str, float]


class AnswerData(_Open):
    cold_start: ColdStart
    warm: WarmAsk


class HttpLevel(_Open):
    concurrency: int
    requests: int
    wall_s: float
    requests_per_s: float
    latency: Latency
    statuses: dict[str, int]
    errors: int


class HttpData(_Open):
    ready_s: float
    server_peak_rss_mb: float | None
    levels: list[HttpLevel]
    server_errors: list[str]


class BaselineData(_Open):
    chunks: int
    ingest_s: Spread
    ask_baseline: Latency
    ask_ours: Latency
    accuracy: dict


class Section(BaseModel):
    status: Literal["ok", "error"]
    seconds: float
    error: str | None = None
    data: dict = Field(default_factory=dict)


class Target(BaseModel):
    id: str
    description: str
    op: Literal["<=", ">=", "=="]
    target: float | None  # None: computed from a figure of the run that was not measured
    unit: str
    value: float | None
    met: bool | None  # None: not measured (its section failed)


class Machine(_Open):
    cores: int
    ram_gb: float
    cpu_model: str
    python: str
    platform: str
    packages: dict[str, str]
    date: str
    load_avg_start: list[float]
    load_avg_end: list[float]
    busiest_other_processes: list[str]


class GrowthRow(BaseModel):
    """One row of "how cost grows": a figure at 1k / 10k / 100k chunks and its growth read off them."""
    figure: str
    unit: str
    values: dict[str, float | None]  # chunks (as a string) -> value; None: not measured at that size
    slope: float | None  # of log(value) against log(chunks)
    growth: Literal["flat", "logarithmic", "sub-linear", "linear", "super-linear"] | None
    sentence: str


class Results(BaseModel):
    schema_version: Literal[2]
    quick: bool
    plan: dict
    machine: Machine
    duration_s: float
    sections: dict[str, Section]
    targets: list[Target]
    growth: list[GrowthRow]
    ratios: dict[str, float | None]


SECTION_MODELS = {"ingest": IngestData, "scale": ScaleData, "answer": AnswerData, "http": HttpData,
                  "baseline": BaselineData}


def validate(payload: dict) -> Results:
    """Validate the whole payload, including the data of every section that ran successfully."""
    results = Results.model_validate(payload)
    for name, section in results.sections.items():
        if section.status == "ok":
            SECTION_MODELS[name].model_validate(section.data)
    return results


# -- bench/results/soak.json (`python -m bench --soak`) ---------------------------------------------------

class ProcFigures(_Open):
    rss_mb: float
    threads: int = Field(ge=1)
    fds: int = Field(ge=0)


class SoakMinute(_Open):
    minute: int = Field(ge=1)
    requests: int = Field(ge=0)
    statuses: dict[str, int]
    unexpected: int = Field(ge=0)
    latency: Latency
    answer_latency: Latency
    rss_mb: float | None
    threads: int | None
    fds: int | None


class SoakProcess(_Open):
    start: ProcFigures | None
    warm: ProcFigures | None
    end: ProcFigures | None
    first_minute_max: ProcFigures | None


class SoakResults(_Open):
    schema_version: Literal[1]
    minutes: float = Field(gt=0)
    rate_per_s: float = Field(gt=0)
    duration_s: float
    machine: Machine
    config: dict
    requests: int = Field(ge=0)
    statuses: dict[str, int]
    by_kind: dict[str, dict]
    unexpected_count: int = Field(ge=0)
    latency: Latency
    per_minute: list[SoakMinute]
    serve: SoakProcess
    reingest: dict
    versions: dict
    feedback: dict
    targets: list[Target]


def validate_soak(payload: dict) -> SoakResults:
    return SoakResults.model_validate(payload)
