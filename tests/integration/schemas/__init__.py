"""Integration tests of the codec and the Schema Registry."""
