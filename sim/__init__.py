"""A local stand-in for the IMA Open API, faithful to the protocol and its failure modes."""
