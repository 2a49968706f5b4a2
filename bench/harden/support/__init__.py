"""What the access-and-hardening scripts of ``bench/harden/`` share (not a script: ``make harden`` runs
only the files directly in ``bench/harden/``)."""
