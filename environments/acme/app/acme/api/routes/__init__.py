"""HTTP routes: parse and validate input, call a service, shape the output."""
