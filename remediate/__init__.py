"""remediate: configuration remediation and fleet rollout over SSH."""

__version__ = "0.1.0"
