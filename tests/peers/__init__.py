"""Real platform servers the tests harvest beside the simulator, run on loopback by the tests themselves."""
