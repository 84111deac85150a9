"""The conformance suite (conformance/) under pytest: every case against every peer.

One test per (case, peer): xconv and the peer must agree within the dtype's tolerance, or
the peer must say why it cannot express the case (`unsupported` passes). Every peer and
every part of xconv must be present: the Tests command installs them all, so a missing one
is a failure, never a skip. `python -m conformance` runs the same comparisons with a report.
"""

from __future__ import annotations

import collections

import pytest

from conformance import findings, generate, runner, subject
from conformance.cases import DIALECTS, load_cases
from conformance.peers import PEER_NAMES, peer_status

CASES = load_cases()
_CACHE: dict = {}
_RESULTS: dict[tuple[str, str], str] = {}


def _pairs():
    for case in CASES:
        for peer in PEER_NAMES:
            if "error" in case.expect:  # a documented error: the pages and Keras judge
                wanted = runner.judges_errors(case, peer)
            else:
                wanted = peer != "pages" or bool(case.expect)
            if not wanted:
                continue
            yield pytest.param(case, peer, id=f"{case.id}-{peer}")


PAIRS = list(_pairs())


@pytest.mark.parametrize(("case", "peer"), PAIRS)
def test_xconv_agrees_with_peer(case, peer):
    version, why = peer_status(peer)
    assert version is not None, f"peer {peer} is not installed: {why}"
    subject.check_available(case)  # NotAvailable fails the test
    if len(_CACHE) > 64:  # keep a few cases' arrays: the peers of one case run together
        _CACHE.pop(next(iter(_CACHE)))
    for result in runner.run_case(case, [peer], _CACHE):
        _RESULTS[(case.id, peer)] = result.status
        assert result.status != "fail", f"{case.id} vs {peer}: {result.reason}"


def test_generated_cases_are_current():
    assert generate.main(["--check"]) == 0, "run python -m conformance.generate"


def test_case_files_cover_every_dialect_and_option():
    by_dialect = collections.Counter(case.dialect for case in CASES)
    assert all(by_dialect[d] >= 20 for d in DIALECTS), by_dialect
    canonical = [c for c in CASES if c.dialect == "canonical"]
    seen = collections.defaultdict(set)
    for case in canonical:
        padding = case.params["padding"]
        seen["op"].add(case.op)
        seen["rank"].add(case.rank)
        seen["dtype"].add(case.dtype)
        seen["padding"].add(padding if isinstance(padding, str) else type(padding).__name__)
        seen["mode"].add(case.params["padding_mode"])
        seen["value"].add(case.params["padding_value"] != 0)
        seen["channels_last"].add(case.params["channels_last"])
        seen["bias"].add(case.bias)
        seen["batched"].add(case.batched)
        seen["stride"].add(max(case.per_dim("stride")))
        seen["dilation"].add(max(case.per_dim("dilation")))
        seen["output_padding"].add(any(case.per_dim("output_padding")))
        seen["algorithm"].add(case.algorithm)
        groups = case.params["groups"]
        seen["groups"].add("1" if groups == 1 else "dw" if groups == case.in_channels else "g")
    assert seen["op"] == {"conv", "conv_transpose", "conv_vjp", "conv_transpose_vjp"}
    assert seen["rank"] == {1, 2, 3}
    assert seen["dtype"] == {"float16", "float32", "float64", "complex64", "complex128"}
    assert seen["padding"] >= {"valid", "same", "same_lower", "full", "causal", "int", "list"}
    assert seen["mode"] == {"constant", "reflect", "symmetric", "replicate", "circular"}
    for name in ("value", "channels_last", "bias", "batched", "output_padding"):
        assert seen[name] == {False, True}, name
    assert seen["stride"] >= {1, 2, 3} and seen["dilation"] >= {1, 2, 3}
    assert seen["groups"] == {"1", "g", "dw"}
    assert seen["algorithm"] == {"auto", "direct", "gemm", "fft"}
    assert sum(c.one_channel and not c.gradient for c in canonical) >= 30  # SciPy's cases


def test_enough_comparisons_per_peer():
    """At least 1,000 comparisons, and 30 passing for every peer (after the pairs ran)."""
    if len(_RESULTS) < len(PAIRS):
        pytest.skip("only part of the suite ran")
    assert len(_RESULTS) >= 1000
    passed = collections.Counter(peer for (_, peer), s in _RESULTS.items() if s == "pass")
    for peer in PEER_NAMES:
        if peer_status(peer)[0] is not None and peer != "pages":
            assert passed[peer] >= 30, (peer, passed[peer])


def test_findings_probes_run():
    """Every documented disagreement still reproduces: when peers start to agree (or a
    probe cannot run), FINDINGS.md must be updated."""
    for record in findings.check():
        assert record["status"] == "present", record
