"""Tests of the device harness (`mock_wormhole`) and its pytest plugin."""
