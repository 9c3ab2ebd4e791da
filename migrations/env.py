"""Alembic environment: the URL comes from `bot.db.alembic_config`, never from a file."""

from alembic import context
from bot.db import create_db_engine
from bot.models import Base

config = context.config
target_metadata = Base.metadata

# Objects the migrations create by hand that the models deliberately do not map: full-text search
# (per dialect) and slack-sdk's OAuth tables. Autogenerate must neither drop nor re-create them.
UNMAPPED_TABLES = {"plays_fts", "slack_installations", "slack_bots", "slack_oauth_states"}
UNMAPPED_COLUMNS = {"search_vector"}
UNMAPPED_INDEXES = {"ix_plays_search_vector"}


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table":
        return name not in UNMAPPED_TABLES and not name.startswith("plays_fts_")
    if type_ == "column":
        return name not in UNMAPPED_COLUMNS
    if type_ == "index":
        return name not in UNMAPPED_INDEXES
    return True


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      include_object=include_object, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_db_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          include_object=include_object, render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()  # release the file or socket: migrations run once per process


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
