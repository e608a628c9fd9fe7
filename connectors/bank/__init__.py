"""Bank statement formats: MT940/MT942 and ISO 20022 camt.052/053/054."""
