"""The wire layer: command and response APDUs, status words, TLV, readers and traces (no card knowledge)."""
