"""The connector conformance suite: the same tests against every connector.

To add a connector, write a :class:`~connectors.conformance.target.ConformanceTarget` for it and
add its factory to ``TARGETS`` in ``conformance/targets/__init__.py``. See ``target.py``.
"""
