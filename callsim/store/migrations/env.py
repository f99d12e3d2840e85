"""Alembic's environment for the live service: run on the connection the store passes
(``config.attributes["connection"]``), never from an ini file."""

from alembic import context

from callsim.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
