"""Look inside a trained model: ``python -m lstm_core.inspection`` (see `__main__`) writes one
HTML page of the input coloured by its LSTM units."""
