"""Benchmarks of integrator, apart from the tests: ``python -m benchmarks`` (or ``./dev bench``)
runs every scenario and writes ``BENCHMARKS.md``. See ``benchmarks/README.md``."""
