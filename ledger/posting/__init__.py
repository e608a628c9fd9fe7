"""Posting: business events → balanced vouchers (记账凭证) through templates kept as configuration."""
