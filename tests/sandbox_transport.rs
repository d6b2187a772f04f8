//! Integration tests of the sandbox transport.
