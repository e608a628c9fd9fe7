"""Generic CSV/Excel connector for bank and ERP exports, driven by column-mapping profiles."""
