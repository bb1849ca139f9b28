"""Asterisk's configuration, generated from the settings: the files a site merges and the lab
runs. ``files.generate(settings, options)`` returns ``{file name: text}``; the dialplan (the
support number and its never-silent fallback) is written by ``dialplan``, from the names of
``svi_acd.asterisk.contract``."""
