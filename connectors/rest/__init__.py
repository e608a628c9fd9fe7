"""A REST connector built on requests: auth from the environment, pagination, retries."""
