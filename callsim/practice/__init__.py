"""Practice calls for trainers: cards whose expected handling the core computes
(``cards``), and the handouts made of them (``handout``)."""

from callsim.practice.cards import check, coverage, practice_set

__all__ = ["check", "coverage", "practice_set"]
