"""Storage: SQLModel tables, engines and the bulk write path. Money is integer minor units."""
