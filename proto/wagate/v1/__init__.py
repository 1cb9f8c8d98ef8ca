"""wagate.v1: generated from the .proto files beside this file by `make proto`."""
