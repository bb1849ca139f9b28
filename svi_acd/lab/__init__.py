"""The lab: a chrooted Asterisk 22 on 127.0.0.1 configured from our settings, with SIPp
callers and agents, for tests, demos and benchmarks (``svi-acd lab up|down|status|call``)."""
