"""The command-line apps: absl flags parsed into options, the library called, lines printed, and
exceptions turned into exit statuses (`lstm_core.cli.run`)."""
