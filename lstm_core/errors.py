"""The one exception the apps turn into a one-line message and exit status 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user: a file, an option or a model that cannot be used as given.

    The message names the file or option and says what to do; `train.py` and `sample.py` print
    it on one line, without a traceback, and exit with status 2. `option` is the name of the
    option whose value is refused (``"temperature"``: the keyword of the Python API, the flag
    ``--temperature`` of the apps), when the message starts with it; None otherwise.
    """

    def __init__(self, message: str, option: str | None = None):
        super().__init__(message)
        self.option = option

    def flag_wording(self) -> str:
        """The message as the apps say it: the option it starts with named as a flag
        (``temperature 20.0 is outside ...`` -> ``--temperature 20.0 is outside ...``)."""
        message = str(self)
        if self.option is not None and message.startswith(self.option):
            return "--" + message
        return message
