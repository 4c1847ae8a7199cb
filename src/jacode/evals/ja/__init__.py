"""Japanese generation evaluation: Japanese MT-Bench, ELYZA-tasks-style rubric grading, reference metrics."""
