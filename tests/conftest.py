import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run and every machine (no example database,
# no random seed): the README's test command passes the same way each time. Longer, random
# runs by hand: `pytest --hypothesis-profile=explore`.
settings.register_profile("deterministic", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", max_examples=5_000, deadline=None)
settings.load_profile("deterministic")


@pytest.fixture(autouse=True)
def _not_in_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """`check` prints GitHub annotations by default when $GITHUB_ACTIONS is true: the tests
    expect the output of a terminal, also when CI runs them in GitHub Actions."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
