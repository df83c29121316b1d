"""Tools for testing the library against hostile input (the fuzzer and its seed files); not used by the
product itself."""
