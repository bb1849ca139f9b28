"""Talking to Asterisk: the AMI connection shared by the IVR runtimes and the ACD."""
