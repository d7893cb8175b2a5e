"""Training for a time budget (`--minutes`, `--cpu_seconds`, `lstm_core.budget`) in the pytest
process: the recipe's choices, the schedule, the stop, training.json, and the values refused."""

import json
import os
import time

import pytest

from lstm_core import budget
from lstm_core.callbacks import TrainingCallbacks
from lstm_core.errors import UsageError
from lstm_core.training_options import TrainOptions, check

VERSE = "Yeah, oho, the night is young and the song goes on,\nsing it loud until the dawn.\n"


class LearningRates(TrainingCallbacks):
    def __init__(self):
        self.rates = []

    def on_log(self, step, metrics):
        self.rates.append(metrics["learning_rate"])


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lyrics.txt").write_text(VERSE * 40, encoding="utf-8")  # about 3 KB
    return tmp_path


def test_the_recipe_widens_the_model_with_the_budget_and_adds_dropout_to_a_small_corpus():
    flops = 5e10
    short, long = (budget.recipe(budget.Budget(seconds, "cpu"), 1_000_000, 65, flops)
                   for seconds in (60, 3600))
    assert short.units < long.units
    for chosen in (short, long):  # the width chosen is the widest that sees enough tokens
        assert chosen.planned_tokens >= (budget.TOKENS_PER_PARAMETER
                                         * budget.parameters(chosen.units, 65))
    assert short.dropout <= long.dropout and long.dropout > 0
    big_corpus = budget.recipe(budget.Budget(3600, "cpu"), 10 ** 9, 65, flops)
    assert big_corpus.dropout == 0.0 and big_corpus.units == long.units
    assert "2x" in long.why and "dropout" in long.why


def test_a_model_with_attention_and_lookback_is_timed_and_plans_for_its_cost():
    """They cost more than their FLOPs say: the recipe is given how many times more, timed, and
    plans as for a machine that many times slower: a narrower model, or fewer tokens."""
    from lstm_core.lookback import bar_grid
    from lstm_core.model import ModelConfig

    tokens = ["PAD_None", "Bar_None", "Position_0", "Position_12", "Pitch_60", "Pitch_64",
              "Velocity_90", "Duration_1.0.8"]
    plain = ModelConfig(len(tokens), units=16)
    assert budget.measured_cost_ratio(plain, "cpu") == 1.0  # nothing to time
    # A narrow probe, for the tests' time, on batches large enough that a pass takes tens of
    # milliseconds: on a busy machine, a pass of a few milliseconds is as long as the time slices
    # that decide which pass is the quickest, and the attention can time as free.
    ratio = budget.measured_cost_ratio(
        ModelConfig(len(tokens), attention_length=64, bar_grid=bar_grid(tokens)), "cpu",
        units=16, batch_size=32, sequence_length=64)
    assert 1 < ratio < 100
    flops, plan = 5e10, budget.Budget(600, "cpu")
    without = budget.recipe(plan, 300_000, len(tokens), flops)
    timed = budget.recipe(plan, 300_000, len(tokens), flops, ratio)
    slower = budget.recipe(plan, 300_000, len(tokens), flops / ratio)
    assert (timed.units, timed.planned_tokens) == (slower.units, slower.planned_tokens)
    assert timed.units <= without.units
    same_width = budget.recipe(budget.Budget(10 ** 8, "cpu"), 300_000, len(tokens), flops, 2.0)
    widest = budget.recipe(budget.Budget(10 ** 8, "cpu"), 300_000, len(tokens), flops)
    assert same_width.units == widest.units == budget.WIDTHS[-1]
    assert same_width.planned_tokens == pytest.approx(widest.planned_tokens / 2, rel=1e-6)
    # What reading the corpus and the timing took is not planned for.
    half_left = budget.recipe(budget.Budget(10 ** 8, "cpu"), 300_000, len(tokens), flops,
                              seconds_left=5 * 10 ** 7)
    assert half_left.planned_tokens == pytest.approx(widest.planned_tokens / 2, rel=1e-6)
    assert half_left.why.startswith("50000000 left of 1e+08 CPU seconds")
    assert "attention and lookback timed at" in timed.why and "timed" not in without.why


def test_the_cosine_schedule_warms_up_then_ends_at_its_final_share():
    schedule = budget.Cosine(warmup=0.1, final=0.05)
    factors = [float(schedule.factor(p)) for p in (0.0, 0.05, 0.1, 0.55, 1.0)]
    assert factors[0] == 0.0 and factors[1] == pytest.approx(0.5)
    assert factors[2] == pytest.approx(1.0) and factors[3] == pytest.approx(0.525)
    assert factors[4] == pytest.approx(0.05)


def test_a_cpu_budget_stops_the_run_ends_the_schedule_and_records_the_choice(corpus):
    from lstm_core.training import train

    lines, rates, seconds = [], LearningRates(), 10
    started = time.process_time()
    result = train(report=lines.append, callbacks=rates, training_file="lyrics.txt",
                   model_name="budget", cpu_seconds=seconds, units=16, log_frequency=1,
                   histogram_frequency=0, sample_every=0)
    spent = time.process_time() - started
    assert result.stopped == "budget"
    assert spent <= 1.5 * seconds  # the clock starts with the call: only the end runs over
    [choice] = [line for line in lines if line.startswith("budget: ")]
    assert "given: --units" in choice and " left of 10 CPU seconds at about " in choice
    peak = budget.PEAK_LEARNING_RATE
    assert max(rates.rates) == pytest.approx(peak, rel=0.05)  # warmed up to the peak
    assert rates.rates[-1] <= peak * (budget.SCHEDULE.final + 0.05)  # and decayed to its end

    record = json.loads((corpus / "logs" / "budget" / "training.json").read_text())
    config = json.loads((corpus / "logs" / "budget" / "config.json").read_text())
    assert config["units"] == 16  # the flag given wins over the recipe's width
    assert record["budget"]["units"] in budget.WIDTHS and record["budget"]["why"] in choice
    assert record["training"]["budget"] == {"seconds": seconds, "clock": "cpu", "schedule": {
        "warmup": budget.SCHEDULE.warmup, "final": budget.SCHEDULE.final}}
    assert record["training"]["early_stopping"] == budget.EARLY_STOPPING
    assert os.path.isdir(corpus / "logs" / "budget" / "checkpoints")


@pytest.mark.parametrize("values, message", [
    (dict(minutes=-1), "--minutes and --cpu_seconds must be 0"),
    (dict(cpu_seconds=-5), "--minutes and --cpu_seconds must be 0"),
    (dict(minutes=10, cpu_seconds=600), "two budgets for one run; give one"),
])
def test_bad_budgets_are_one_line_usage_errors(values, message):
    with pytest.raises(UsageError, match=message) as error:
        check(TrainOptions(**values))
    assert "\n" not in str(error.value)
