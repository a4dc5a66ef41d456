"""dtrctl: administer tag immutability on Docker Trusted Registry / Mirantis Secure Registry."""

__version__ = "0.1.0"
