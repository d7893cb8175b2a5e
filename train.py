"""Train an LSTM language model on text or music.

    python train.py --training_file lyrics.txt --vocabulary_file lyrics.vocab --model_name lyrics

Everything of the model goes to ``logs/<model_name>/`` (see `lstm_core.saved`). Running the same
command again resumes from the newest checkpoint; ``--fresh`` starts over (the old folder is kept
beside it, renamed). The command is `lstm_core.apps.train`; from Python, `lstm_core.training`.
"""

from lstm_core.apps.train import run

if __name__ == "__main__":
    run()
