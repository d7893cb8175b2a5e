"""Generate text (or music) with a trained model.

    python sample.py --model_name lyrics --output_file new_lyrics.txt --seed "Yeah, oho "
"""

from lstm_core.apps.sample import run

if __name__ == "__main__":
    run()
