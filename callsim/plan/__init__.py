"""Planning named people over weeks: the roster file (``people``), the requirement it
covers (``requirement``) and the CP-SAT roster (``roster``, OR-Tools imported there
only, lazily)."""
