"""Command handlers, one module per family; ``table`` builds the INS table the card dispatches on.

Handlers decode P1/P2 and the data field; the file system only stores (architecture rule 1).
"""
