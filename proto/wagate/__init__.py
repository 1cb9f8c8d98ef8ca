"""Generated protobuf packages for the wagate API (see proto/wagate/v1)."""
