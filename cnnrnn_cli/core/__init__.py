"""The mathematics: NumPy only (sizes: pure Python), no Click, no Rich, no I/O."""
