"""The command-line apps: flags parsed into options, the library called, its results printed."""
