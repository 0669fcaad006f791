"""Run the evaluation over the store: load projects in chunks, apply `rules.evaluation`, keep the results.

    from monitor.evaluation import run_evaluation
    summary = run_evaluation(engine, settings, as_of=date(2024, 7, 31))
"""

from monitor.evaluation.run import RunSummary, evaluate_project, run_evaluation

__all__ = ["RunSummary", "evaluate_project", "run_evaluation"]
