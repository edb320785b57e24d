"""The second stage: Faust agents (dedup, correlate, aggregate) around pure domain logic."""
