"""The drop folder of spec/interchange-v1.md: canonical CSV files, bank CSV, master data."""
