"""The golden Sales dataset and the expected CDS and F&O rows it produces."""
