"""Money after checkout: bank transfers and statements, COD remittances."""
