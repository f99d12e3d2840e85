"""Who may do what on the live service. A key has one role:

- ``admin``: everything, keys included;
- ``supervisor``: reads everything; agents' state and skills; contacts, notes, tickets;
- ``agent`` (bound to one agent): acts only as that agent (log in, ready, pause, offers),
  on the calls it handles, and on contacts and tickets;
- ``client`` (bound to one client): reads only its own calls, notes, tickets, statistics;
- ``trainer``: pushes calls (practice and load tests), hangs them up, reads calls.
"""

ROLES = ("admin", "supervisor", "agent", "client", "trainer")
