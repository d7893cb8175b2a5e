"""The PyTorch reference model of the benchmarks: `torch.nn.LSTM` in lstm-core's shape.

Embedding → stacked `nn.LSTM` (time-major, as lstm-core's) → dense logits over the vocabulary,
with dropout on every LSTM layer's output while training, as lstm-core's ``--dropout`` (nn.LSTM's
own dropout covers every layer but the last). Imported only where torch is installed.
"""

from __future__ import annotations

import torch


class TorchLanguageModel(torch.nn.Module):
    def __init__(self, vocabulary: int, units: int, layers: int, embedding: int,
                 dropout: float = 0.0):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocabulary, embedding)
        self.lstm = torch.nn.LSTM(embedding, units, layers, dropout=dropout if layers > 1 else 0)
        self.dropout = torch.nn.Dropout(dropout)
        self.output = torch.nn.Linear(units, vocabulary)

    def forward(self, tokens: torch.Tensor, state):
        """Logits `[time, batch, vocabulary]` of `tokens` `[time, batch]`, and the new state."""
        hidden, state = self.lstm(self.embedding(tokens), state)
        return self.output(self.dropout(hidden)), state
