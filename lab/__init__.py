"""The lab, outside the product: a chrooted Asterisk 22 on 127.0.0.1 configured by the
product's own generator (``svi_acd.asterisk.confgen``), with SIPp callers and agents, for
tests, demos and benchmarks (``svi-acd lab up|down|status|call``). It imports the product;
nothing in the product imports it (``tests/unit/test_architecture.py``)."""

COMMAND_HELP = "Asterisk de test sur 127.0.0.1 (chroot Debian sid), appels SIPp"  # svi-acd --help
