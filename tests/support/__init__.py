"""Helpers shared by more than one test directory (import them; conftests hold only fixtures).

- `tests.support.paths`: `REPO` and `CORPUS`, the repository and its real corpus.
- `tests.support.servers`: `free_port()` and `serve_in_thread(app)` (uvicorn on an ephemeral port).
"""
