"""Host-side knowledge of each applet: its AID and file identifiers, and a session that speaks to it.

The one place for AIDs and FIDs outside the profiles: suites, the demo, the CLI and the benchmarks take
them from here. Names follow the specification (spec current-card §2–§4); the Japanese term is in each
constant's docstring.
"""
