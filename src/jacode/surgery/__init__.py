"""Model surgery: task-arithmetic merging (chat vector) and dense → MoE upcycling."""
