"""Count calls to some methods of one object (what a question reads from the store), still calling them."""
from __future__ import annotations


def count_calls(monkeypatch, target, names) -> dict[str, int]:
    """Wrap `target.<name>` for each name so every call is counted; returns the live {name: calls}."""
    counts = {name: 0 for name in names}
    for name in names:
        original = getattr(target, name)

        def counting(*args, _name=name, _original=original, **kwargs):
            counts[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(target, name, counting)
    return counts
