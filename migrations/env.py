"""Alembic environment: the URL comes from `bot.db.alembic_config`, never from a file."""

from alembic import context

from bot.db import create_db_engine, include_object, writer
from bot.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        include_object=include_object,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_db_engine(config.get_main_option("sqlalchemy.url"))
    with writer(engine).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()  # release the file or socket: migrations run once per process


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
