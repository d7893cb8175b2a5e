"""lstm-core: stacked LSTM language models written by hand in TensorFlow 2.

Data flows one way, one module per stage:

    preprocessing (Vocabulary) → batch (Batch) → cell / fused / stack (the LSTM)
    → model (LanguageModel) → trainer (Trainer) → sampler (Sampler) → text, or music/

`train.py` and `sample.py` at the top of the repository are the apps.
"""
