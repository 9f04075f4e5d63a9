"""Where health data files live: a folder that no URL reaches."""

from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    """A FileSystemStorage with no public URL. Its files (clinical photos)
    are read through a view that checks who asks and audits the read, so a
    template that asks for `.url` fails loudly instead of linking around it."""

    def url(self, name):
        raise ValueError("Files in private storage have no URL; serve them through a view.")
