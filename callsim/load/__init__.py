"""Load testing the live service with locust: ``callsim load`` (``run``), its users
(``locustfile``) and their plan (``traffic``)."""
