"""Shared test settings.

Modest hypothesis example counts keep the whole suite fast. For a deeper search run
HYPOTHESIS_PROFILE=thorough python -m pytest
"""

import os

from hypothesis import settings

# no deadline: the first call of a test can be slow on a loaded CI machine
settings.register_profile("autodiff", max_examples=40, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "autodiff"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow: seconds-long test (the 10^6-op chain); runs in CI, skip with -m 'not slow'",
    )
