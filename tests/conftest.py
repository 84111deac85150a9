"""Shared test configuration: hypothesis profiles and array namespaces.

Profiles (select with ``HYPOTHESIS_PROFILE=<name>``):

- ``default``: derandomized, so every CI run tries the same examples;
- ``explore``: random, ten times the examples, for hunting bugs locally.

``XCONV_EXAMPLE_SCALE=<k>`` multiplies the example counts of the property tests instead
(see ``strategies.examples``).  Failures print a ``@reproduce_failure`` blob.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from namespaces import NAMESPACE_NAMES, NUMPY, Namespace, get_namespace

settings.register_profile(
    "default",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    derandomize=False,
    deadline=None,
    print_blob=True,
    max_examples=1000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session", params=NAMESPACE_NAMES)
def namespace(request) -> Namespace:
    """Every namespace in turn (session-scoped, so it is safe with @given)."""
    return get_namespace(request.param)


@pytest.fixture(scope="session")
def numpy_ns() -> Namespace:
    return NUMPY


@pytest.fixture(scope="session")
def strict_ns() -> Namespace:
    return get_namespace("array_api_strict")


@pytest.fixture(scope="session")
def torch_ns() -> Namespace:
    return get_namespace("torch")
