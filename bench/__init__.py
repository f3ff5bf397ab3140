"""eco2's benchmarks (`make bench`) and load run (`make load`); see docs/bench.md."""
