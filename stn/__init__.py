"""Steal-The-NIC: saves a NIC's Linux configuration, hands the NIC to the dataplane and restores it when asked or when the agent dies."""
