"""The guide's own machinery, apart from its tests: what every test run needs to stay bounded and clean.

`run_limits` stops a test that runs too long and names it; `janitor` stops whatever a run
started when the run dies before it could stop it; `pytest_plugin` wires both into pytest.
"""
