"""The first stage of the flow: topic catalogue, Avro schemas, decoding and validation."""
