import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kutil import new_kernel  # noqa: E402


@pytest.fixture
def k():
    return new_kernel()
