import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hypothesis import settings

# Property tests draw the same examples on every run and every machine (no example database,
# no random seed): the README's test command passes the same way each time. Longer, random
# runs by hand: `pytest --hypothesis-profile=explore`.
settings.register_profile("deterministic", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", max_examples=5_000, deadline=None)
settings.load_profile("deterministic")
