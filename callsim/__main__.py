"""``python -m callsim`` runs the command line."""

from callsim.cli.app import main

main()
