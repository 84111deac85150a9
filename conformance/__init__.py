"""xconv's cross-framework conformance suite.

Cases are data (`conformance/cases/`), peers are small adapters (`conformance/peers/`),
and `python -m conformance` runs every case through xconv and every installed peer and
prints the dialect x peer matrix. See `conformance/README.md`.
"""
