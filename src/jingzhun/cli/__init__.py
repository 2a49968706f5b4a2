"""The `jingzhun` command line (Typer + Rich). One module per area registers its commands."""
