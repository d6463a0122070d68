"""Running answer cells: a worker process (worker.py), its driver (runner.py), the cache."""
