"""Getting store data in: webhook receiver (verify, enqueue), processor (validate, map, store exactly once)
and REST back-fill with checkpoints."""
