"""The SSH edge: connections, ssh_config, one host's apply, the rollout over a fleet."""
