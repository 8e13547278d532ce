"""Tests of the device harness (`models.common.mock_device`) and its pytest plugin."""
