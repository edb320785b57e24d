"""Unit tests of the benchmarks' pure logic: their tables, rates and samples."""
