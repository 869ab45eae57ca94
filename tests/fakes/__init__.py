"""Local servers that speak outside services' wire protocols, for tests and benchmarks."""
