"""Backing up and restoring the database, whichever it is.

SQLite: the sqlite3 online backup API, which copies a consistent snapshot
while the clinic keeps working. PostgreSQL: pg_dump in its custom format and
pg_restore --clean in one transaction (the client tools must be installed)."""

import os
import shutil
import sqlite3

# pg_dump and pg_restore run with fixed arguments and no shell.
import subprocess  # nosec B404
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

BACKUP_DIR = Path(settings.BASE_DIR) / "backups"


def default_path():
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if connection.vendor == "sqlite" else "dump"
    return BACKUP_DIR / f"vermilion-{connection.vendor}-{stamp}.{suffix}"


def _pg(tool):
    path = shutil.which(tool)
    if path is None:
        raise CommandError(f"{tool} is not installed. Install the PostgreSQL client tools.")
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    args = ["--host", db.get("HOST") or "localhost", "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    return path, args, env, db["NAME"]


def backup(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(path) as target:
            connection.connection.backup(target)
        target.close()
    else:
        tool, args, env, name = _pg("pg_dump")
        subprocess.run(  # nosec B603
            [tool, *args, "--format=custom", "--no-owner", "--file", str(path), name],
            env=env,
            check=True,
            capture_output=True,
        )
    return path


def restore(path):
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"There is no backup at {path}.")
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(path) as source:
            source.backup(connection.connection)
        source.close()
    else:
        tool, args, env, name = _pg("pg_restore")
        result = subprocess.run(  # nosec B603
            [
                tool,
                *args,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--dbname",
                name,
                str(path),
            ],
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise CommandError(f"pg_restore failed; nothing was changed:\n{result.stderr}")
        connection.close()
