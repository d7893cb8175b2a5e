"""The one exception the apps turn into a one-line message and exit status 2."""


class UsageError(Exception):
    """Bad input from the user: a file, a flag or a model that cannot be used as given.

    The message names the file or flag and says what to do; `train.py` and `sample.py` print it
    on one line, without a traceback, and exit with status 2.
    """
