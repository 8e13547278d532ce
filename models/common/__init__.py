"""Code shared by the model demos (device opening, the mock Wormhole harness)."""
