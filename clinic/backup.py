"""Backing up and restoring the database, whichever it is.

SQLite: the sqlite3 online backup API, which copies a consistent snapshot
while the clinic keeps working. PostgreSQL: pg_dump in its custom format and
pg_restore --clean in one transaction (the client tools must be installed).

The clinical photos (issue 19) are files in the `photos` storage, not rows:
each backup writes them beside the database file, as `<backup>.photos.tar`,
through the storage API (so an S3 bucket is copied the same way), and a
restore puts back every photo in that archive."""

import io
import os
import shutil
import sqlite3

# pg_dump and pg_restore run with fixed arguments and no shell.
import subprocess  # nosec B404
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
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
    photos_backup(path)
    return path


def photos_path(path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".photos.tar")


def _walk(storage, folder=""):
    folders, files = storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}" if folder else name
    for sub in folders:
        yield from _walk(storage, f"{folder}/{sub}" if folder else sub)


def photos_backup(path) -> Path:
    """Every file of the photos storage into a tar beside the backup `path`."""
    storage = storages["photos"]
    target = photos_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        names = sorted(_walk(storage))
    except FileNotFoundError:  # no photo was ever taken
        names = []
    with tarfile.open(target, "w") as archive:
        for name in names:
            with storage.open(name) as source:
                data = source.read()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            archive.addfile(info, fileobj=io.BytesIO(data))
    return target


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
    photos_restore(path)


def photos_restore(path) -> int:
    """Put back every photo of the archive beside `path` (if there is one)."""
    source = photos_path(path)
    if not source.is_file():
        return 0
    storage = storages["photos"]
    count = 0
    with tarfile.open(source) as archive:
        for member in archive.getmembers():
            name = member.name
            if not member.isfile() or name.startswith("/") or ".." in Path(name).parts:
                continue
            data = archive.extractfile(member).read()
            if storage.exists(name):
                storage.delete(name)
            storage.save(name, ContentFile(data))
            count += 1
    return count
