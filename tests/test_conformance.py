"""The conformance suite (conformance/) under pytest: every case against every peer.

One test per (case, peer): xconv on NumPy and on PyTorch arrays and the peer must agree
within the dtype's tolerance, or the peer must say why it cannot express the case
(`unsupported` passes). Every forward and transposed case comes with the gradient case
of its layer. Every peer and every part of xconv must be present: the Tests command
installs them all, so a missing one is a failure, never a skip. `python -m conformance`
runs the full matrix (every array library installed) with a report; a sample of it runs
here on the other libraries.
"""

from __future__ import annotations

import collections

import pytest

from conformance import findings, generate, libraries, runner, subject
from conformance.__main__ import main as conformance_main
from conformance.cases import DIALECTS, load_cases, with_gradients
from conformance.peers import PEER_NAMES, peer_status

FILE_CASES = load_cases()
CASES = with_gradients(FILE_CASES)
# the reduced run: every case on NumPy and on one other library (its own kernels, autograd)
LIBRARIES = ("numpy", "torch")
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
    for result in runner.run_case(case, [peer], _CACHE, libraries=LIBRARIES):
        _RESULTS[(case.id, peer)] = result.status
        assert result.status != "fail", f"{case.id} on {result.backend} vs {peer}: {result.reason}"


def test_generated_cases_are_current():
    assert generate.main(["--check"]) == 0, "run python -m conformance.generate"


def test_case_files_cover_every_dialect_and_option():
    by_dialect = collections.Counter(case.dialect for case in FILE_CASES)
    assert all(by_dialect[d] >= 20 for d in DIALECTS), by_dialect
    canonical = [c for c in FILE_CASES if c.dialect == "canonical"]
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


def test_every_forward_case_has_its_gradient_case():
    derived = {case.of for case in CASES if case.of}
    forward = [c for c in FILE_CASES if not c.gradient and "error" not in c.expect]
    assert {c.id for c in forward if c.activation in (None, "linear")} <= derived
    assert all(case.gradient and not case.expect for case in CASES if case.of)


@pytest.mark.parametrize("library", ["array_api_strict", "jax", "dask"])
def test_a_sample_on_the_other_libraries(library, tmp_path):
    """Every tenth case (and its gradient case) on one more library, through the command
    line and its JSON report, as `python -m conformance --backend` runs the full matrix."""
    import json

    assert libraries.status(library)[0] is not None, f"{library} is not installed"
    sample = [f"--case={case.id}" for case in FILE_CASES[::10]]
    sample += [f"--case={case.id}/grad" for case in FILE_CASES[::10]]
    report = tmp_path / "report.json"
    code = conformance_main(["--backend", library, *sample, "--quiet", "--report", str(report)])
    results = json.loads(report.read_text())["results"]
    failed = [f"{r['case']} vs {r['peer']}: {r['reason']}" for r in results
              if r["status"] == "fail"]  # fmt: skip
    assert code == 0 and not failed, failed
    assert {r["backend"] for r in results} == {library}
    assert {r["op"] for r in results} >= {"conv", "conv_vjp", "conv_transpose_vjp"}
