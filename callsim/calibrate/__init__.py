"""Calibrate a scenario from a real centre's call log, and compare its predictions of
logged days with what happened (``callsim calibrate``, ``callsim compare``)."""
